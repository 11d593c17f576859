import { useEffect, useState } from 'react';

export type Route =
  | { readonly view: 'overview' }
  | { readonly view: 'machines' }
  | { readonly view: 'workers' }
  | { readonly view: 'jobs'; readonly query: URLSearchParams }
  | { readonly view: 'job'; readonly id: string }
  | { readonly view: 'submit' };

/**
 * Hash routes (`#/jobs?status=active`, `#/jobs/<id>`): they work unchanged wherever the static
 * build is served (under /monitor/, at a CDN root) and keep `?api=` in the page's own query.
 */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  switch (parts[0]) {
    case 'machines':
      return { view: 'machines' };
    case 'workers':
      return { view: 'workers' };
    case 'submit':
      return { view: 'submit' };
    case 'jobs':
      return parts[1] ? { view: 'job', id: decodeURIComponent(parts[1]) } : { view: 'jobs', query: new URLSearchParams(search) };
    default:
      return { view: 'overview' };
  }
}

export function href(path: string): string {
  return `#${path}`;
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}
