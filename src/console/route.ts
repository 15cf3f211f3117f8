// The console's pages live in the URL fragment (#/agents/echo), so the node serves one index.html and a
// reload or a shared link opens the same page.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  page: string;
  /** The path segment after the page (an agent's name), decoded. */
  arg?: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page, arg] = path.split('/');
  return { page: page || 'cluster', arg: arg ? decodeURIComponent(arg) : undefined, query: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function href(page: string, arg?: string, query?: Record<string, string>): string {
  const q = query ? `?${new URLSearchParams(query)}` : '';
  return `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}${q}`;
}
