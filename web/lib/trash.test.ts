import { describe, expect, it } from "vitest";
import { ApiError } from "./api/errors";
import { restoreDeadline, restoreFailure, stillRestorable, timeUntil } from "./trash";

const now = Date.parse("2026-11-20T12:00:00Z");

describe("restoreDeadline", () => {
  it("uses the server's restorable_until when it gives one", () => {
    expect(restoreDeadline({ deleted_at: "2026-11-20T11:00:00Z", restorable_until: "2026-11-27T11:00:00Z" }))
      .toBe("2026-11-27T11:00:00Z");
  });
  it("counts 7 days from deleted_at otherwise (files)", () => {
    expect(restoreDeadline({ deleted_at: "2026-11-20T11:00:00Z" })).toBe("2026-11-27T11:00:00.000Z");
  });
  it("is null for something not deleted", () => {
    expect(restoreDeadline({ deleted_at: null, restorable_until: null })).toBeNull();
    expect(restoreDeadline({ deleted_at: "not a time" })).toBeNull();
  });
});

describe("timeUntil", () => {
  it("says days, hours and minutes", () => {
    expect(timeUntil("2026-11-27T11:59:00Z", now)).toBe("in 7 days");
    expect(timeUntil("2026-11-21T12:00:00Z", now)).toBe("in 24 hours");
    expect(timeUntil("2026-11-22T12:00:00Z", now)).toBe("in 2 days");
    expect(timeUntil("2026-11-20T17:10:00Z", now)).toBe("in 5 hours");
    expect(timeUntil("2026-11-20T12:12:00Z", now)).toBe("in 12 minutes");
    expect(timeUntil("2026-11-20T12:00:20Z", now)).toBe("in less than a minute");
  });
  it("is empty once the time has passed", () => {
    expect(timeUntil("2026-11-20T11:59:59Z", now)).toBe("");
    expect(timeUntil("soon", now)).toBe("");
  });
});

describe("stillRestorable", () => {
  it("is true up to the deadline, inclusive", () => {
    expect(stillRestorable({ restorable_until: "2026-11-20T12:00:00Z" }, now)).toBe(true);
    expect(stillRestorable({ restorable_until: "2026-11-20T11:59:59Z" }, now)).toBe(false);
    expect(stillRestorable({}, now)).toBe(false);
  });
});

describe("restoreFailure", () => {
  it("says a 410 can no longer be restored", () => {
    const gone = new ApiError(410, "restore_window_expired", "This room was deleted more than 7 days ago…");
    expect(restoreFailure(gone).title).toBe("It can no longer be restored");
  });
  it("explains the conflicts a restore can meet", () => {
    expect(restoreFailure(new ApiError(409, "duplicate_agent_name", "x")).title).toBe("Another agent has this name now");
    expect(restoreFailure(new ApiError(409, "agent_limit_reached", "x")).title).toBe("This room is full");
    expect(restoreFailure(new ApiError(422, "room_storage_full", "x")).title).toBe("This file no longer fits");
  });
  it("keeps the server's message for anything else", () => {
    const failure = restoreFailure(new ApiError(0, "network_error", "Could not reach the server."));
    expect(failure).toEqual({ title: "It could not be restored", message: "Could not reach the server." });
    expect(restoreFailure(new ApiError(404, "room_not_found", "No such room.")).title).toBe("It is gone");
  });
});
