// The roles of a page of users as both LegacyDatabase adapters return them: the roles table's
// rows folded into one list per user key (as text, whatever the key column's type).

/** One roles-table row, with the user key already cast to text by the query. */
export interface RoleRow {
  k: string;
  role: string;
}

export const rolesByUser = (rows: Iterable<RoleRow>): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.k);
    if (list) list.push(r.role);
    else out.set(r.k, [r.role]);
  }
  return out;
};
