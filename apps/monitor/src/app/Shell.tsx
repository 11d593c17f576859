import type { ReactNode } from 'react';
import { useFleet } from '../state/hooks.ts';
import { href, useRoute, type Route } from '../ui/router.ts';
import { Jobs } from '../views/Jobs.tsx';
import { JobDetail } from '../views/JobDetail.tsx';
import { Machines } from '../views/Machines.tsx';
import { Overview } from '../views/Overview.tsx';
import { Submit } from '../views/Submit.tsx';
import { Workers } from '../views/Workers.tsx';
import { ConnectionBanner, LiveIndicator } from './ConnectionBanner.tsx';

const NAV: readonly { path: string; label: string; views: readonly Route['view'][] }[] = [
  { path: '/overview', label: 'Overview', views: ['overview'] },
  { path: '/machines', label: 'Machines', views: ['machines'] },
  { path: '/workers', label: 'Workers', views: ['workers'] },
  { path: '/jobs', label: 'Jobs', views: ['jobs', 'job'] },
  { path: '/submit', label: 'Submit job', views: ['submit'] },
];

const TITLES: Record<Route['view'], string> = { overview: 'Overview', machines: 'Machines', workers: 'Workers', jobs: 'Jobs', job: 'Job', submit: 'Submit a job' };

function View({ route }: { readonly route: Route }): ReactNode {
  switch (route.view) {
    case 'overview':
      return <Overview />;
    case 'machines':
      return <Machines />;
    case 'workers':
      return <Workers />;
    case 'jobs':
      return <Jobs query={route.query} />;
    case 'job':
      return <JobDetail key={route.id} id={route.id} />;
    case 'submit':
      return <Submit />;
  }
}

export function Shell({ apiUrl, onSignOut }: { readonly apiUrl: string; readonly onSignOut?: () => void }) {
  const route = useRoute();
  const fleet = useFleet();
  const counts: Partial<Record<string, number>> = { '/machines': fleet.machines.size, '/workers': fleet.workers.size };
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <span className="brand-mark">▤</span> Conveyor
        </div>
        <ul>
          {NAV.map((n) => (
            <li key={n.path}>
              <a href={href(n.path)} aria-current={n.views.includes(route.view) ? 'page' : undefined}>
                {n.label}
                {counts[n.path] !== undefined && <span className="nav-count">{counts[n.path]}</span>}
              </a>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <div className="muted small" title="API URL">
            {apiUrl}
          </div>
          {onSignOut && (
            <button type="button" className="link" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      </nav>
      <main className="main">
        <header className="topbar">
          <h1>{TITLES[route.view]}</h1>
          <LiveIndicator />
        </header>
        <ConnectionBanner />
        <View route={route} />
      </main>
    </div>
  );
}
