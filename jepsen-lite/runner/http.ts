import { request } from 'undici';

/** JSON over HTTP with a hard timeout; never throws for HTTP statuses. */
export async function httpJson(
  method: 'GET' | 'POST' | 'DELETE' | 'PUT',
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // Non-JSON bodies are returned as text.
  }
  return { status: res.statusCode, body: parsed };
}
