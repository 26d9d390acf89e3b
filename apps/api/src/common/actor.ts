/** Who made a change, for the audit logs: `admin-api`, or `admin-api:<X-ASO-Actor>` (at most 200 characters). */
export function actorOf(header: string | undefined): string {
  const who = header?.trim();
  return who && who.length <= 200 ? `admin-api:${who}` : 'admin-api';
}
