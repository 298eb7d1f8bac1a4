/**
 * Hash routes (`#/`, `#/login`, `#/signup`, `#/room/<id>`): the server serves one index.html for
 * every path, and hash routes keep working behind any static host too.
 */

export type Route =
  | { name: 'rooms' }
  | { name: 'login'; next: string | undefined }
  | { name: 'signup'; next: string | undefined }
  | { name: 'room'; roomId: string }
  | { name: 'notFound'; path: string };

/** The route a location hash (`#/room/abc`) names. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const next = new URLSearchParams(query).get('next') ?? undefined;
  if (parts.length === 0) return { name: 'rooms' };
  if (parts.length === 1 && parts[0] === 'login') return { name: 'login', next };
  if (parts.length === 1 && parts[0] === 'signup') return { name: 'signup', next };
  if (parts.length === 2 && parts[0] === 'room' && parts[1]) return { name: 'room', roomId: parts[1] };
  return { name: 'notFound', path };
}

/** The hash of a route, for links: `href(roomRoute('abc'))` is `#/room/abc`. */
export function href(route: Route): string {
  switch (route.name) {
    case 'rooms':
      return '#/';
    case 'login':
    case 'signup':
      return `#/${route.name}${route.next ? `?next=${encodeURIComponent(route.next)}` : ''}`;
    case 'room':
      return `#/room/${encodeURIComponent(route.roomId)}`;
    case 'notFound':
      return `#${route.path}`;
  }
}

/** Where to go after logging in: `next` when it is one of our own routes, else the room list. */
export function afterLogin(next: string | undefined): string {
  return next?.startsWith('/') && !next.startsWith('//') ? `#${next}` : '#/';
}
