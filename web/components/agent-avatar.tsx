import { avatarColour, initials } from "@/lib/format";

export function AgentAvatar({ name, size }: { name: string; size?: number }) {
  const style = { background: avatarColour(name), ...(size ? { width: size, height: size } : {}) };
  return (
    <span className="avatar" style={style} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
