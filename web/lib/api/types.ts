/** Short names for the API's schemas, as the screens use them. */
import type { components } from "./schema";

type S = components["schemas"];

export type Me = S["MeOut"];
export type Room = S["RoomOut"];
export type RoomDetail = S["RoomDetailOut"];
export type RoomMode = S["RoomMode"];
export type Agent = S["AgentOut"];
export type AgentCreate = S["AgentCreate"];
export type AgentPatch = S["AgentPatch"];
export type ModelAlias = S["ModelAlias"];
export type ModelInfo = S["ModelOut"];
export type Models = S["ModelsOut"];
export type Wallet = S["WalletOut"];
export type Turn = S["TurnOut"];
export type TurnSnapshot = S["TurnSnapshot"];
export type TimelinePage = S["TimelinePageOut"];
export type TimelineEntry = S["TimelineEntryOut"];
export type StepMessage = S["StepMessageOut"];
export type UserMessage = S["UserMessageOut"];
export type DirectSession = S["DirectSessionOut"];
export type FileInfo = S["FileOut"];
export type FileList = S["FileListOut"];
export type UploadTicket = S["UploadTicketOut"];

// Billing and usage
export type LedgerEntry = S["LedgerEntryOut"];
export type LedgerPage = S["LedgerPageOut"];
export type Usage = S["UsageOut"];
export type UsageRow = S["pantheon_http__schemas__billing__UsageRowOut"];
export type Offer = S["OfferOut"];
export type Plan = S["PlanOut"];
export type TopUp = S["TopUpOut"];

// Admin
export type AdminUser = S["UserAdminOut"];
export type AdminUsersPage = S["UsersPageOut"];
export type AdminUsage = S["AdminUsageOut"];
export type AdminUsageRow = S["pantheon_http__schemas__admin__UsageRowOut"];
export type Costs = S["CostsOut"];
export type ActiveUsers = S["ActiveOut"];
export type Top = S["TopOut"];
export type AuditEvent = S["AuditEventOut"];
export type AuditPage = S["AuditPageOut"];
export type ModelPolicyIn = S["ModelPolicyIn"];
