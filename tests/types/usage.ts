// Type-checked by `make lint` (tsc --noEmit, tests/types/tsconfig.json) against
// public/sdk/chatterly.d.ts: what an app writes must compile, and typos must not.

import {
  type ChatterlyError,
  type ClientFrameType,
  connect,
  framesOf,
  type HistoryPage,
  type Message,
  Room,
  type ServerFrameType,
} from '../../public/sdk/chatterly.js';

export async function usage(): Promise<void> {
  const room = await connect({
    url: 'https://chat.example.com',
    room: 'lobby',
    token: async () => 'jwt',
    maxQueued: 10,
    backoff: { base: 250, max: 5000 },
  });
  const off = room.on('message', (m: Message, meta) => {
    const who: string = m.name;
    const live: boolean = meta.live;
    void who;
    void live;
    for (const r of m.reactions) console.log(r.emoji, r.count, r.mine);
  });
  off();
  room.on('update', (m) => console.log(m.editedAt ?? 0, m.deleted));
  room.on('room', (r) => console.log(r.topic, r.locked, r.change?.type));
  room.on('members', (e) => console.log(e.members.length, e.away, e.count, e.verified.length));
  room.on('join', (e) => console.log(e.name, e.verified === true));
  const verified: string[] = room.verified;
  void verified;
  room.on('state', (s) => console.log(s.state, s.retryAt));
  room.on('error', (e: ChatterlyError) => console.log(e.code, e.retryAfterMs));
  room.on('typing', (t) => console.log(t.name));
  // @ts-expect-error: no such event
  room.on('mesage', () => {});
  // @ts-expect-error: a message handler gets a Message, not a string
  room.on('message', (m: string) => m);

  const file = await room.upload(new Blob(['hi']), {
    onProgress: (loaded, total) => console.log(loaded / total),
    signal: new AbortController().signal,
  });
  const fileId: string = file.id;
  const pictured = await room.send('', { files: [file, fileId] });
  const width: number | undefined = pictured.files[0]?.width;
  void width;
  // @ts-expect-error: files are ids or uploads, not numbers
  room.send('', { files: [1] });
  const sent = room.send('hi', { replyTo: 3 });
  const nonce: string = sent.nonce;
  const stored = await sent;
  const id: number = stored.id;
  void nonce;
  const edit = await room.edit(id, 'hello');
  const target: number = edit.target;
  void target;
  const react = await room.react(id, '👍');
  const on: boolean = react.on;
  void on;
  await room.delete(id);
  await room.kick('Bob');
  await room.lock(true);
  await room.setTopic('Launch');
  const titled: string = (await room.setTitle('Q3 planning')).text;
  room.on('error', (e) => {
    if (e.code === 'kicked') console.log(e.by, e.title, e.until);
  });
  room.on('members', (m) => console.log(m.owners.join(', ')));
  room.typing();
  for await (const page of room.history({ before: id })) console.log(page[0]?.text);
  const topic: string = room.topic;
  const members: string[] = room.members;
  const locked: boolean = room.locked;
  const owner: boolean = room.owner;
  const title: string = room.title;
  const owners: string[] = room.owners;
  void [topic, members, locked, owner, titled, title, owners];
  room.close();

  const manual = new Room({ url: 'http://127.0.0.1:8787', room: 'lobby', name: 'Bot' });
  manual.on('welcome', (w) => console.log(w.first));
  await manual.open();
  // @ts-expect-error: url is required
  await connect({ room: 'lobby' });
  const c: ClientFrameType = 'auth';
  const s: ServerFrameType = 'welcome';
  void [c, s];
  // Issues 17 and 18 on the wire: the renewal's answer, reaction summaries, verified members.
  const frames = framesOf('{"type":"auth","exp":1}');
  for (const f of frames) {
    if (f.type === 'auth') console.log(f.exp + 1);
    if (f.type === 'react') console.log(f.count + 1);
    if (f.type === 'welcome') console.log(f.verified?.length, f.truncated, f.history.length);
    if (f.type === 'join') console.log(f.verified === true);
    if (f.type === 'presence') console.log(f.verified?.[0]);
    if (f.type === 'message') for (const r of f.reactions ?? []) console.log(r.count + 1, r.me === true, r.names);
  }
  const page: HistoryPage = { messages: [], truncated: true };
  void page;
  const mine: boolean = (await manual.send('x')).verified;
  void mine;
  // @ts-expect-error: the renewal's answer has no token
  for (const f of frames) if (f.type === 'auth') console.log(f.token);
}
