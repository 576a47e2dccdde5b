/** One agent step as its own timeline message: agent, model and mode labels, live text, credits. */
import type { StepView } from "@/lib/stream/turn-state";
import { KIND_LABELS, MODE_LABELS, MODEL_LABELS, creditsLabel } from "@/lib/format";
import { AgentAvatar } from "./agent-avatar";
import { Markdown } from "./markdown";

export function StepMessage({ step }: { step: StepView }) {
  const running = step.status === "running";
  const name = step.agentName || "Manager";
  return (
    <article className="msg-step" data-testid="step-message" data-status={step.status} data-kind={step.kind}
      aria-label={`${name}, ${KIND_LABELS[step.kind] ?? step.kind}`}>
      <AgentAvatar name={name} />
      <div className="msg-body">
        <header className="msg-head">
          <span className="msg-agent" data-testid="step-agent">{name}</span>
          <span className="badge badge-accent" title={step.model || undefined}>
            {MODEL_LABELS[step.modelAlias] ?? step.modelAlias}
          </span>
          {step.model && <span className="badge mono model-id" data-testid="step-model">{step.model}</span>}
          {step.mode && <span className="badge">{MODE_LABELS[step.mode] ?? step.mode}</span>}
          {step.kind !== "worker" && <span className="badge">{KIND_LABELS[step.kind] ?? step.kind}</span>}
          {step.status === "failed" && <span className="badge badge-danger">Failed</span>}
        </header>
        {step.instruction && <p className="msg-instruction"><span className="visually-hidden">Instruction: </span>{step.instruction}</p>}
        {step.toolCalls.length > 0 && (
          <ul className="tool-calls list-plain" aria-label="Tool calls">
            {step.toolCalls.map((c) => (
              <li key={c.callId} className="tool-call">
                <span className={`badge ${c.status === "denied" || c.status === "error" ? "badge-danger" : ""}`}>
                  {c.tool === "web_search" ? "Web search" : c.tool === "read_file" ? "Read file" : c.tool}
                  {c.status === "running" ? "…" : c.status === "allowed" ? "" : ` · ${c.status}`}
                </span>
                <span className="mono">{c.arguments}</span>
                {c.error && <span>— {c.error.message}</span>}
              </li>
            ))}
          </ul>
        )}
        <div className={`msg-content${running ? " streaming" : ""}`} data-testid="step-content" aria-live="polite"
          aria-busy={running}>
          {step.content && <Markdown text={step.content} />}
          {running && !step.content && (
            <span className="stream-state" data-testid="step-loader">
              <span className="dots" aria-hidden="true"><span /><span /><span /></span>
              {name} is {step.kind === "plan" ? "planning" : "thinking"}…
            </span>
          )}
        </div>
        {step.planFallback && (
          <div className="alert alert-warning msg-error" role="note">
            <div className="alert-body"><strong>Plan fallback:</strong> {step.planFallback}. Every agent ran in roster order.</div>
          </div>
        )}
        {step.status === "failed" && (
          <div className="alert alert-error msg-error" data-testid="step-error">
            <div className="alert-body">
              <strong>This step failed.</strong> {step.error?.message ?? "No reason was given."}
              {step.error?.code && <> <code>{step.error.code}</code></>}
            </div>
          </div>
        )}
        {!running && (
          <footer className="msg-foot">
            <span data-testid="step-credits">{creditsLabel(step.credits)}</span>
          </footer>
        )}
      </div>
    </article>
  );
}
