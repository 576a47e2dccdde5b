/** The toast after a soft delete: "Room “Launch” deleted · Undo", whose Undo restores it. */
import type { ApiError } from "@/lib/api/errors";
import { restoreFailure } from "@/lib/trash";
import type { ToastInput } from "./toast";

/** The error toast for a failed restore (410 reads "It can no longer be restored"). */
export function restoreErrorToast(error: ApiError): ToastInput {
  const failure = restoreFailure(error);
  return { message: failure.title, detail: failure.message, tone: "error", code: error.code };
}

export function undoToast({ subject, verb = "deleted", restore, restored, focus }: {
  /** What went, as the toast names it: `Room “Launch”`. */
  subject: string;
  verb?: string;
  /** Calls the restore endpoint (and refreshes what shows the item). */
  restore: () => Promise<void>;
  /** The toast that replaces this one once restored (default: "<subject> restored"). */
  restored?: Partial<ToastInput>;
  focus?: boolean;
}): ToastInput {
  return {
    message: `${subject} ${verb}`,
    focus,
    action: {
      label: "Undo",
      run: async () => {
        await restore();
        return { message: `${subject} restored`, tone: "success", ...restored };
      },
      onError: restoreErrorToast,
    },
  };
}
