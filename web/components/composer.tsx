"use client";
/**
 * The message box: Enter sends, Shift+Enter breaks the line, `@` suggests agent handles
 * (arrow keys to choose, Enter or Tab to insert, Escape to close). While a turn runs, the
 * send button becomes Stop.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { insertMention, matchHandles, mentionAt, type MentionQuery } from "@/lib/mentions";
import { AgentAvatar } from "./agent-avatar";
import { SendIcon, StopIcon } from "./icons";

export interface Handle {
  name: string;
  handle: string;
  model_alias: string;
}

interface Props {
  agents: Handle[];
  placeholder: string;
  hint: string;
  running: boolean;
  disabled?: boolean;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  insertRef?: React.MutableRefObject<((handle: string) => void) | null>;
}

export function Composer({ agents, placeholder, hint, running, disabled, onSend, onStop, insertRef }: Props) {
  const id = useId();
  const [text, setText] = useState("");
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [active, setActive] = useState(0);
  const [sending, setSending] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const options = mention ? matchHandles(agents, mention.query).slice(0, 8) : [];
  const open = options.length > 0;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 220)}px`;
  }, [text]);

  useEffect(() => {
    if (!insertRef) return;
    insertRef.current = (handle: string) => {
      setText((t) => `@${handle} ${t.replace(/^\s+/, "")}`);
      box.current?.focus();
    };
  }, [insertRef]);

  function track(value: string, caret: number) {
    setText(value);
    const m = mentionAt(value, caret);
    setMention(m);
    setActive(0);
  }

  function pick(handle: string) {
    if (!mention) return;
    const next = insertMention(text, mention, handle);
    setText(next.text);
    setMention(null);
    requestAnimationFrame(() => {
      box.current?.focus();
      box.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  async function send() {
    const content = text.trim();
    if (!content || running || sending || disabled) return;
    setSending(true);
    const ok = await onSend(content);
    setSending(false);
    if (ok) setText("");
    box.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const by = e.key === "ArrowDown" ? 1 : -1;
        setActive((a) => (a + by + options.length) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        pick(options[active]!.handle);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  const listId = `${id}-mentions`;
  return (
    <div className="composer-inner">
      <div className="composer">
        {open && (
          <ul className="mention-list" id={listId} role="listbox" aria-label="Agents to tag" data-testid="mention-list">
            {options.map((a, i) => (
              <li key={a.handle} id={`${listId}-${i}`} role="option" aria-selected={i === active}
                className="mention-option" onMouseDown={(e) => { e.preventDefault(); pick(a.handle); }}
                onMouseEnter={() => setActive(i)}>
                <AgentAvatar name={a.name} />
                <span><strong>@{a.handle}</strong> <span className="hint">{a.model_alias}</span></span>
              </li>
            ))}
          </ul>
        )}
        <label htmlFor={`${id}-box`} className="visually-hidden">Message</label>
        <textarea
          id={`${id}-box`}
          ref={box}
          rows={1}
          value={text}
          placeholder={placeholder}
          data-testid="composer-input"
          aria-describedby={`${id}-hint`}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${active}` : undefined}
          onChange={(e) => track(e.target.value, e.target.selectionStart)}
          onKeyDown={onKeyDown}
          onClick={(e) => setMention(mentionAt(text, e.currentTarget.selectionStart))}
          onBlur={() => setMention(null)}
          disabled={disabled}
        />
        {running ? (
          <button className="btn btn-icon" type="button" onClick={onStop} aria-label="Stop the running turn"
            data-testid="stop-button"><StopIcon /></button>
        ) : (
          <button className="btn btn-primary btn-icon" type="button" onClick={() => void send()}
            disabled={!text.trim() || sending || disabled} aria-label="Send message" data-testid="send-button">
            <SendIcon />
          </button>
        )}
      </div>
      <div className="composer-meta" id={`${id}-hint`}>
        <span>{hint}</span>
        <span className="keys-hint">Enter to send · Shift+Enter for a new line</span>
      </div>
    </div>
  );
}
