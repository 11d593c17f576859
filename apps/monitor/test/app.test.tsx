import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/app/App.tsx';
import { FakeSocket } from './fake-socket.ts';
import { fakeFetch, on, type Call } from './fake-api.ts';
import { snapshot } from './samples.ts';

const ORIGIN = window.location.origin;
const hello = (mode: 'local' | 'server') => ({ type: 'hello', protocol: 1, endpoint: 'monitor', session: 's', mode, tenant: 'default', admin: true, heartbeatMs: 15000 });
const machines = (valid: (c: Call) => boolean) =>
  on('GET', '/api/machines', (c) =>
    valid(c) ? { status: 200, body: { machines: [] } } : { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'the API key is unknown or revoked', issues: [] } } },
  );

beforeEach(() => {
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  sessionStorage.clear();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('app start', () => {
  it('opens straight away in local mode and goes live on the snapshot', async () => {
    vi.stubGlobal('fetch', fakeFetch(machines(() => true)));
    render(<App />);
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const ws = FakeSocket.latest();
    expect(ws.url).toBe(`${ORIGIN.replace('http', 'ws')}/ws/monitor`);
    act(() => {
      ws.open();
      ws.deliver(hello('local'));
      ws.deliver(snapshot());
    });
    expect(await screen.findByRole('status', { name: 'connection live' })).toBeTruthy();
    expect(screen.getByText(/local mode/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('warns when the API speaks another protocol version', async () => {
    vi.stubGlobal('fetch', fakeFetch(machines(() => true)));
    render(<App />);
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().deliver({ ...hello('local'), protocol: 2 });
      FakeSocket.latest().deliver(snapshot());
    });
    expect(await screen.findByText(/the API speaks monitor protocol 2, this page 1/)).toBeTruthy();
  });

  it('asks for an admin key in server mode, rejects a wrong one and keeps a good one for the tab', async () => {
    const fetcher = fakeFetch(machines((c) => c.headers.authorization === 'Bearer good-key'));
    vi.stubGlobal('fetch', fetcher);
    render(<App />);
    const input = await screen.findByLabelText('API key');
    fireEvent.change(input, { target: { value: 'wrong-key' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open the monitor' }));
    expect((await screen.findByRole('alert')).textContent).toContain('The API rejected this key');
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'good-key' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open the monitor' }));
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    expect(FakeSocket.latest().url).toContain('/ws/monitor?access_token=good-key');
    expect(Object.values({ ...sessionStorage })).toContain('good-key');
    expect(await screen.findByRole('button', { name: 'Sign out' })).toBeTruthy();
  });

  it('goes back to the key prompt when the socket is refused and the key no longer works', async () => {
    sessionStorage.setItem(`conveyor.monitor.key:${ORIGIN}`, 'revoked-key');
    let revoked = false;
    vi.stubGlobal('fetch', fakeFetch(machines(() => !revoked)));
    render(<App />);
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    revoked = true;
    act(() => FakeSocket.latest().drop());
    expect(await screen.findByText(/no longer accepts the key/)).toBeTruthy();
    expect(screen.getByLabelText('API key')).toBeTruthy();
    expect(sessionStorage.length).toBe(0);
  });

  it('says clearly when the API cannot be reached, and retries', async () => {
    const fetcher = vi.fn(() => Promise.reject(new TypeError('Failed to fetch')));
    vi.stubGlobal('fetch', fetcher);
    render(<App />);
    expect((await screen.findByRole('alert', { name: 'Connection' })).textContent).toContain('did not answer');
    expect(screen.getByRole('heading', { name: 'API unreachable' })).toBeTruthy();
    const before = fetcher.mock.calls.length;
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await waitFor(() => expect(fetcher.mock.calls.length).toBeGreaterThan(before));
  });

  it('shows a banner while the live connection is down and clears it after resyncing', async () => {
    vi.stubGlobal('fetch', fakeFetch(machines(() => true)));
    render(<App />);
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().deliver(snapshot());
    });
    act(() => FakeSocket.latest().drop());
    expect((await screen.findByRole('alert', { name: 'Connection' })).textContent).toContain('Connection to the API lost');
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().deliver(snapshot({ reason: 'initial' }));
    });
    await waitFor(() => expect(screen.queryByRole('alert', { name: 'Connection' })).toBeNull());
  });
});
