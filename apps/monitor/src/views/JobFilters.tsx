import { JOB_STATUSES, type JobStatus } from '../protocol.ts';
import type { JobFilter } from './job-filter.ts';

export interface JobFiltersProps {
  readonly filter: JobFilter;
  readonly onChange: (next: JobFilter) => void;
  readonly options: { readonly services: readonly string[]; readonly tenants: readonly string[]; readonly machines: readonly string[] };
  readonly counts: Readonly<Partial<Record<JobStatus, number>>>;
}

function Select({ label, value, values, onChange }: { readonly label: string; readonly value: string; readonly values: readonly string[]; readonly onChange: (v: string) => void }) {
  const all = value && !values.includes(value) ? [value, ...values] : values;
  return (
    <label className="field-inline">
      <span>{label}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">all</option>
        {all.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Status toggles (several may be on) and menus for service, tenant and machine. */
export function JobFilters({ filter, onChange, options, counts }: JobFiltersProps) {
  const toggle = (s: JobStatus) => onChange({ ...filter, status: filter.status.includes(s) ? filter.status.filter((x) => x !== s) : [...filter.status, s] });
  return (
    <div className="filters" role="search">
      <div className="status-toggles" role="group" aria-label="Status">
        {JOB_STATUSES.map((s) => (
          <button key={s} type="button" className={`toggle status-${s}`} aria-pressed={filter.status.includes(s)} onClick={() => toggle(s)}>
            {s}
            <span className="toggle-count">{counts[s] ?? 0}</span>
          </button>
        ))}
      </div>
      <Select label="Service" value={filter.service} values={options.services} onChange={(service) => onChange({ ...filter, service })} />
      <Select label="Tenant" value={filter.tenant} values={options.tenants} onChange={(tenant) => onChange({ ...filter, tenant })} />
      <Select label="Machine" value={filter.machine} values={options.machines} onChange={(machine) => onChange({ ...filter, machine })} />
      <label className="field-inline">
        <span>Job id</span>
        <input type="search" aria-label="Job id" placeholder="contains…" value={filter.search} onChange={(e) => onChange({ ...filter, search: e.target.value })} />
      </label>
    </div>
  );
}
