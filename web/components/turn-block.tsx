/** A turn: the user's message, each step as its own message, then the turn's outcome. */
import type { LiveInfo } from "@/hooks/use-turn-stream";
import type { TurnView } from "@/lib/stream/turn-state";
import { MODE_LABELS, creditsLabel } from "@/lib/format";
import { StepMessage } from "./step-message";

interface Props {
  turn: TurnView;
  live?: LiveInfo;
  onCancel: () => void;
  onResume: () => void;
  cancelling: boolean;
}

export function TurnBlock({ turn, live, onCancel, onResume, cancelling }: Props) {
  const running = turn.status === "running";
  const failedSteps = turn.steps.filter((s) => s.status === "failed").length;
  return (
    <section className="turn" data-testid="turn" data-status={turn.status} aria-label={`Turn: ${turn.message.slice(0, 60)}`}>
      <div className="turn-divider">{MODE_LABELS[turn.mode] ?? turn.mode} turn</div>
      <div className="msg-user" data-testid="user-message">{turn.message}</div>
      {turn.steps.map((step) => (
        <StepMessage key={step.stepId} step={step} />
      ))}
      {running && turn.upNext.length > 0 && turn.steps.length > 0 && (
        <p className="turn-foot up-next" data-testid="up-next">
          Up next: {turn.upNext.join(", ")}
        </p>
      )}
      {running && turn.steps.length === 0 && (
        <p className="stream-state turn-foot" data-testid="turn-loader">
          <span className="dots" aria-hidden="true"><span /><span /><span /></span>
          {turn.mode === "orchestrator" ? "The manager is planning…" : "Starting…"}
        </p>
      )}
      <footer className="turn-foot" data-testid="turn-foot">
        {running ? (
          <>
            <span className="stream-state" role="status">
              <span className="spinner" aria-hidden="true" />
              {live?.state === "reconnecting" ? "Reconnecting…" : live?.state === "lost" ? "Connection lost." : "Agents are answering…"}
            </span>
            {live?.state === "lost" && (
              <button className="btn btn-sm" type="button" onClick={onResume}>Reconnect</button>
            )}
            <button className="btn btn-sm" type="button" onClick={onCancel} disabled={cancelling}
              data-testid="cancel-turn">
              {cancelling ? "Stopping…" : "Stop"}
            </button>
          </>
        ) : (
          <>
            <TurnOutcome status={turn.status} failedSteps={failedSteps} total={turn.steps.length} />
            <span data-testid="turn-credits">Turn total: {creditsLabel(turn.credits)}</span>
          </>
        )}
      </footer>
      {!running && turn.error && turn.status !== "cancelled" && (
        <div className="alert alert-error" role="alert">
          <div className="alert-body"><strong>The turn failed:</strong> {turn.error.message} <code>{turn.error.code}</code></div>
        </div>
      )}
    </section>
  );
}

function TurnOutcome({ status, failedSteps, total }: { status: string; failedSteps: number; total: number }) {
  if (status === "completed") return <span className="badge badge-success">Completed</span>;
  if (status === "partial")
    return <span className="badge badge-warning">Partial · {failedSteps} of {total} steps failed</span>;
  if (status === "cancelled") return <span className="badge">Stopped</span>;
  return <span className="badge badge-danger">Failed</span>;
}
