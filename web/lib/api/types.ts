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
