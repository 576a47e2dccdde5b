"""Every use case, assembled once from :class:`Deps` by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_type_hints

from pantheon_core.usecases import (
    admin,
    agents,
    analytics,
    billing,
    conversation,
    direct,
    files,
    housekeeping,
    jobs,
    models,
    payments,
    retention,
    rooms,
    scheduler,
    signin,
    signin_guard,
    tokens,
    turns,
    users,
)
from pantheon_core.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class UseCases:
    # rooms and modes
    create_room: rooms.CreateRoom
    list_rooms: rooms.ListRooms
    get_room: rooms.GetRoom
    find_room: rooms.FindRoom
    update_room: rooms.UpdateRoom
    request_mode: rooms.RequestMode
    delete_room: rooms.DeleteRoom
    restore_room: rooms.RestoreRoom
    # agents
    list_agents: agents.ListAgents
    get_agent: agents.GetAgent
    add_agent: agents.AddAgent
    edit_agent: agents.EditAgent
    reorder_agents: agents.ReorderAgents
    remove_agent: agents.RemoveAgent
    restore_agent: agents.RestoreAgent
    # turns and conversations
    begin_turn: turns.BeginTurn
    send_to_room: turns.SendToRoom
    start_room_session: turns.StartRoomSession
    list_room_sessions: turns.ListRoomSessions
    get_turn: conversation.GetTurn
    stream_turn_events: conversation.StreamTurnEvents
    cancel_turn: conversation.CancelTurn
    list_timeline: conversation.ListTimeline
    sweep_interrupted_turns: conversation.SweepInterruptedTurns
    # direct chat
    create_direct_session: direct.CreateDirectSession
    list_direct_sessions: direct.ListDirectSessions
    get_direct_session: direct.GetDirectSession
    send_direct: direct.SendDirect
    delete_direct_session: direct.DeleteDirectSession
    restore_direct_session: direct.RestoreDirectSession
    # files
    request_upload: files.RequestUpload
    finish_upload: files.FinishUpload
    list_files: files.ListFiles
    get_file: files.GetFile
    delete_file: files.DeleteFile
    restore_file: files.RestoreFile
    create_download_link: files.CreateDownloadLink
    open_download: files.OpenDownload
    parse_file: files.ParseFile
    requeue_stuck_files: files.RequeueStuckFiles
    # credits and billing
    get_wallet: billing.GetWallet
    list_ledger: billing.ListLedger
    usage_report: billing.UsageReport
    quote_call: billing.QuoteCall
    grant_credits: billing.GrantCredits
    list_offer: billing.ListOffer
    start_checkout: billing.StartCheckout
    open_portal: billing.OpenPortal
    sweep_reservations: billing.SweepReservations
    reconcile: billing.Reconcile
    handle_payment_event: payments.HandlePaymentEvent
    # admin: controls, audit, analytics
    admin_list_users: admin.ListUsers
    admin_get_user: admin.GetUserAdmin
    admin_set_cap: admin.SetCreditCap
    admin_set_model_policy: admin.SetModelPolicy
    admin_set_user_status: admin.SetUserStatus
    admin_list_audit: admin.ListAudit
    admin_usage: analytics.AdminUsageReport
    admin_costs: analytics.CostReport
    admin_active_users: analytics.ActiveUsersReport
    admin_top: analytics.TopReport
    rollup_usage: analytics.RollupUsage
    tick_scheduler: scheduler.TickScheduler
    expire_plan_credits: billing.ExpirePlanCredits
    # models
    list_models: models.ListModels
    get_manager_model: models.GetManagerModel
    set_manager_model: models.SetManagerModel
    # sign-in and credentials
    request_magic_link: signin.RequestMagicLink
    verify_magic_link: signin.VerifyMagicLink
    authenticate_session: signin.AuthenticateSession
    authenticate_external: signin.AuthenticateExternal
    logout: signin.Logout
    create_api_token: tokens.CreateApiToken
    list_api_tokens: tokens.ListApiTokens
    revoke_api_token: tokens.RevokeApiToken
    authenticate_api_token: tokens.AuthenticateApiToken
    guard_sign_in: signin_guard.GuardSignIn  # wraps every check above of a sign-in secret
    # users and roles
    get_profile: users.GetProfile
    act_as: users.ActAs
    set_role: users.SetRole
    list_admins: users.ListAdmins
    # housekeeping
    purge_expired_credentials: housekeeping.PurgeExpiredCredentials
    # retention (FR-DATA-001..003)
    purge_deleted: retention.PurgeDeleted
    purge_expired_content: retention.PurgeExpiredContent
    run_retention: retention.RunRetention
    # background jobs
    run_job: jobs.RunJob
    list_job_runs: jobs.ListJobRuns

    @classmethod
    def build(cls, deps: Deps) -> UseCases:
        """Each field's annotation is its use case class; construct every one with ``deps``."""
        return cls(**{name: kind(deps) for name, kind in get_type_hints(cls).items()})
