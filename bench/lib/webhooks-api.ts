import { randomBytes } from 'node:crypto';

/** The webhooks API cannot be used (not mounted, refusing local targets, ...): the phase reports it as skipped. */
export class WebhooksUnavailable extends Error {}

export interface Subscription {
  id: number;
  secret: string;
  channel: string;
}

/** `POST /webhooks` for one receiver channel, with a secret of our own so signatures can be checked. */
export async function subscribe(appUrl: string, adminToken: string, url: string, channel: string, events: string[]): Promise<Subscription> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(`${appUrl}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ url, events, secret, description: `nestream bench ${channel}` }),
    });
  } catch (err) {
    throw new WebhooksUnavailable(`POST /webhooks failed: ${(err as Error).message}`);
  }
  if (res.status === 404) throw new WebhooksUnavailable('POST /webhooks answers 404: the webhooks module is not mounted');
  if (res.status !== 201) throw new WebhooksUnavailable(`POST /webhooks answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const body = (await res.json()) as { id: number };
  return { id: body.id, secret, channel };
}

export async function unsubscribe(appUrl: string, adminToken: string, id: number): Promise<void> {
  const res = await fetch(`${appUrl}/webhooks/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE /webhooks/${id} answered ${res.status}`);
}
