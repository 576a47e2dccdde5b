/** Moving keyboard focus after a change removed the control that had it. */

/** Focuses what `find` returns once it is rendered: tries on each animation frame, for up to
 * `frames` frames (a re-render may land a frame or two after the state change). */
export function focusWhenReady(find: () => HTMLElement | null | undefined, frames = 20): void {
  const attempt = (left: number) => {
    const el = find();
    if (el) el.focus();
    else if (left > 0) requestAnimationFrame(() => attempt(left - 1));
  };
  requestAnimationFrame(() => attempt(frames));
}

/** The element a `data-*` attribute selector names: `byData("restore", "room:1")`. */
export function byData(name: string, value: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-${name}="${CSS.escape(value)}"]`);
}
