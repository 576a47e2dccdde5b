/** Admin roles as /me reports them: owners read and write, analysts only read. */
export function isAdmin(roles: readonly string[]): boolean {
  return roles.includes("owner") || roles.includes("analyst");
}

export function isOwner(roles: readonly string[]): boolean {
  return roles.includes("owner");
}
