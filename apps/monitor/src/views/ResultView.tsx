import type { ArtifactRef } from '@conveyor/core/schemas';
import { useEffect, useState } from 'react';
import { useSession } from '../state/hooks.ts';
import { findMedia, jsonForDisplay, type Media } from './job-detail-data.ts';

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** An artifact's bytes as a URL: the store's own link when it gave one, else fetched from the API with the key. */
function useArtifactUrl(ref: ArtifactRef): { url?: string; error?: string } {
  const { api } = useSession();
  const [state, setState] = useState<{ url?: string; error?: string }>(ref.url ? { url: ref.url } : {});
  useEffect(() => {
    if (ref.url) return;
    let revoked = false;
    let objectUrl: string | undefined;
    api.artifactObjectUrl(ref.key).then(
      (url) => {
        objectUrl = url;
        if (revoked) URL.revokeObjectURL(url);
        else setState({ url });
      },
      (err: Error) => setState({ error: err.message }),
    );
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, ref.key, ref.url]);
  return state;
}

function ArtifactView({ path, artifact }: { readonly path: string; readonly artifact: ArtifactRef }) {
  const { url, error } = useArtifactUrl(artifact);
  const name = artifact.key.split('/').at(-1) ?? artifact.key;
  const image = artifact.contentType.startsWith('image/');
  return (
    <figure className="media">
      {error ? <div className="media-error">{error}</div> : image && url ? <img src={url} alt={name} /> : !url ? <div className="media-loading">loading…</div> : null}
      <figcaption>
        <span className="mono">{path}</span> · {artifact.contentType} · {formatBytes(artifact.size)}
        {url && (
          <>
            {' · '}
            <a href={url} download={name} target="_blank" rel="noreferrer">
              open
            </a>
          </>
        )}
      </figcaption>
    </figure>
  );
}

function MediaView({ media }: { readonly media: Media }) {
  if (media.kind === 'artifact') return <ArtifactView path={media.path} artifact={media.ref} />;
  return (
    <figure className="media">
      <img src={media.src} alt={media.path} />
      <figcaption className="mono">{media.path}</figcaption>
    </figure>
  );
}

/** The job's result: images and screenshots inline, then the whole value as JSON. */
export function ResultView({ result }: { readonly result: unknown }) {
  const media = findMedia(result);
  return (
    <div className="result">
      {media.length > 0 && (
        <div className="media-grid" aria-label="Result images">
          {media.map((m) => (
            <MediaView key={m.path} media={m} />
          ))}
        </div>
      )}
      <pre className="json" aria-label="Result JSON">
        {jsonForDisplay(result)}
      </pre>
    </div>
  );
}
