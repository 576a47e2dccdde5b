from __future__ import annotations

import pytest

from pantheon_core.errors import Conflict, Gone, InvalidInput, NotFound
from tests.fakes import FakeApp
from tests.unit.helpers import sign_up


async def test_create_list_read_update_a_room(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="  Launch   plan ", description="Q3")
    assert room.name == "Launch plan"
    assert room.current_mode.value == "roundtable" and room.pending_mode is None
    app.clock.advance(minutes=1)
    renamed = await app.uc.update_room(alice, room.id, name="Launch")
    assert renamed.name == "Launch" and renamed.description == "Q3"
    assert renamed.updated_at > room.updated_at
    assert [r.name for r in await app.uc.list_rooms(alice)] == ["Launch"]
    detail = await app.uc.get_room(alice, room.id)
    assert detail.room == renamed and list(detail.agents) == []


async def test_create_room_with_an_initial_mode_sets_current_not_pending(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R", mode="manual")
    assert room.current_mode.value == "manual" and room.pending_mode is None


@pytest.mark.parametrize(("name", "code"), [("", "invalid_room_name"), ("   ", "invalid_room_name"),
                                            ("x" * 101, "invalid_room_name")])
async def test_bad_room_names_are_typed_errors(app: FakeApp, name: str, code: str) -> None:
    alice = await sign_up(app, "alice@example.com")
    with pytest.raises(InvalidInput) as err:
        await app.uc.create_room(alice, name=name)
    assert err.value.code == code
    assert app.store.rooms == {}


async def test_soft_delete_hides_the_room_and_restore_brings_it_back(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R")
    deleted = await app.uc.delete_room(alice, room.id)
    assert deleted.restorable_until() is not None
    assert await app.uc.list_rooms(alice) == []
    assert [r.id for r in await app.uc.list_rooms(alice, deleted=True)] == [room.id]
    with pytest.raises(NotFound):
        await app.uc.get_room(alice, room.id)
    app.clock.advance(days=6, hours=23)
    restored = await app.uc.restore_room(alice, room.id)
    assert restored.deleted_at is None
    assert [r.id for r in await app.uc.list_rooms(alice)] == [room.id]


async def test_restore_after_seven_days_is_refused(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R")
    await app.uc.delete_room(alice, room.id)
    app.clock.advance(days=7, seconds=1)
    with pytest.raises(Gone) as err:
        await app.uc.restore_room(alice, room.id)
    assert err.value.code == "restore_window_expired"
    assert app.store.rooms[room.id].deleted_at is not None


async def test_delete_twice_and_restore_a_live_room_are_conflicts(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R")
    with pytest.raises(Conflict):
        await app.uc.restore_room(alice, room.id)
    await app.uc.delete_room(alice, room.id)
    with pytest.raises(NotFound):
        await app.uc.delete_room(alice, room.id)


async def test_find_room_by_name_is_case_insensitive_and_refuses_ambiguity(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    one = await app.uc.create_room(alice, name="Ideas")
    assert (await app.uc.find_room(alice, "ideas")).id == one.id
    assert (await app.uc.find_room(alice, one.id)).id == one.id
    await app.uc.create_room(alice, name="IDEAS")
    with pytest.raises(Conflict) as err:
        await app.uc.find_room(alice, "Ideas")
    assert err.value.code == "ambiguous_room"


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "bell\x07"])
async def test_text_no_store_can_hold_is_refused(app: FakeApp, bad: str) -> None:
    alice = await sign_up(app, "alice@example.com")
    for call in (lambda: app.uc.create_room(alice, name=bad),
                 lambda: app.uc.create_room(alice, name="ok", description=bad)):
        with pytest.raises(InvalidInput) as err:
            await call()
        assert err.value.code == "invalid_text"
    assert app.store.rooms == {}
