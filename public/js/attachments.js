// Pictures and files in the chat (docs/protocol.md, Files): attach by button, drag and drop or
// paste; one row per upload with a progress bar, cancel, the reason of a failure and a retry;
// a message's files drawn as bounded inline images (their size known before they load, so the
// list does not jump) or as cards. The bytes go through the SDK's room.upload.

/** An element with a class and text (as text, never HTML). */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** The largest box an inline image is drawn in (CSS pixels). */
export const IMAGE_BOX = { width: 320, height: 240 };

/**
 * Where a room's files are: `{origin}/api/rooms/{room}/files/` (origin: '' on our page, the chat
 * server's in a widget). Each message list keeps its own, so two widgets in two rooms never mix.
 */
export function filesBase(room, origin = '') {
  return `${origin}/api/rooms/${encodeURIComponent(room)}/files/`;
}

/** 1 234 567 bytes as "1.2 MB". */
export function formatBytes(n) {
  if (!(n >= 0)) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u += 1;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The size to draw an image at: within IMAGE_BOX, never larger than itself, ratio kept. */
export function boundedSize(width, height, box = IMAGE_BOX) {
  if (!(width > 0 && height > 0)) return null;
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Why an upload failed, for a person (the server's codes, docs/protocol.md). */
export function failureText({ code, message = '' }) {
  const limit = /limited to (\d+) bytes/.exec(message);
  if (code === 'file_too_large') {
    return limit ? `Too big: files can be at most ${formatBytes(Number(limit[1]))}.` : 'Too big for this room.';
  }
  if (code === 'file_type') return 'This kind of file is not accepted (PNG, JPEG, GIF, WebP, PDF or plain text).';
  if (code === 'file_quota') return 'You have uploaded a lot in the last hour. Try again later.';
  if (code === 'files_off') return 'This room does not take files.';
  if (code === 'aborted') return 'Cancelled.';
  if (code === 'not_connected' || code === 'upload_failed') return 'The connection failed. Try again.';
  return `Upload failed: ${message || code}`;
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A message's files: images inline (a link to the full size), other files as cards. */
export function filesElement(files, base) {
  const box = h('div', 'files');
  for (const f of files) {
    if (typeof f?.id !== 'string') continue;
    const url = base + encodeURIComponent(f.id);
    const name = String(f.name ?? 'file');
    const size = boundedSize(f.width, f.height);
    if (IMAGE_TYPES.has(f.type) && size) {
      const a = h('a', 'file-image');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.title = `${name}: open full size`;
      const img = document.createElement('img');
      img.alt = name;
      img.width = size.width;
      img.height = size.height;
      img.loading = 'lazy';
      img.decoding = 'async';
      img.src = url;
      a.append(img);
      box.append(a);
    } else {
      const a = h('a', 'file-card');
      a.href = url;
      a.download = name;
      const kind =
        String(f.type ?? '')
          .split('/')[1]
          ?.toUpperCase() ?? 'FILE';
      a.append(h('span', 'file-name', name), h('span', 'file-info', `${kind} · ${formatBytes(f.size)}`));
      a.setAttribute('aria-label', `Download ${name}, ${kind}, ${formatBytes(f.size)}`);
      box.append(a);
    }
  }
  return box;
}

/** The files being attached to the next message. */
export class Attachments {
  /**
   * @param {object} o
   * @param {(file: File, opts: object) => Promise<object>} o.upload   the SDK's room.upload
   * @param {() => void} [o.onChange]  the set of finished uploads changed
   */
  constructor({ els, upload, onChange = () => {} }) {
    this.upload = upload;
    this.onChange = onChange;
    this.items = [];
    this.tray = els.attachments;
    const input = els.fileInput;
    const message = els.input;
    els.attachButton.addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      this.add([...input.files]);
      input.value = '';
    });
    message.addEventListener('paste', (ev) => {
      const files = [...(ev.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      ev.preventDefault();
      this.add(files);
    });
    const zone = els.composer.closest('.conversation') ?? els.composer;
    zone.addEventListener('dragover', (ev) => {
      if (![...(ev.dataTransfer?.types ?? [])].includes('Files')) return;
      ev.preventDefault();
      zone.classList.add('dropping');
    });
    zone.addEventListener('dragleave', (ev) => {
      if (!zone.contains(ev.relatedTarget)) zone.classList.remove('dropping');
    });
    zone.addEventListener('drop', (ev) => {
      zone.classList.remove('dropping');
      const files = [...(ev.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      ev.preventDefault();
      this.add(files);
    });
  }

  /** Whether a finished upload waits to be sent. */
  get ready() {
    return this.items.some((i) => i.ref);
  }

  /** The finished uploads for the message being sent; their rows go. */
  take() {
    const done = this.items.filter((i) => i.ref);
    for (const i of done) this.remove(i);
    return done.map((i) => i.ref);
  }

  /** Forgets every upload (the room was left). */
  clear() {
    for (const i of [...this.items]) {
      i.controller?.abort();
      this.remove(i);
    }
  }

  add(files) {
    for (const file of files) {
      const item = { file, ref: null, controller: null };
      item.li = h('li', 'attachment');
      this.items.push(item);
      this.tray.append(item.li);
      this.start(item);
    }
    this.tray.hidden = this.items.length === 0;
  }

  remove(item) {
    this.items = this.items.filter((i) => i !== item);
    item.li.remove();
    this.tray.hidden = this.items.length === 0;
    this.onChange();
  }

  /** One upload, drawn as it goes: name, progress, cancel; then done, or why not and a retry. */
  start(item) {
    const { file, li } = item;
    const name = file.name || 'pasted file';
    const progress = document.createElement('progress');
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute('aria-label', `Uploading ${name}`);
    const status = h('span', 'attachment-status', 'Uploading…');
    status.setAttribute('role', 'status');
    const cancel = h('button', 'btn btn-ghost btn-small', 'Cancel');
    cancel.type = 'button';
    cancel.setAttribute('aria-label', `Cancel the upload of ${name}`);
    li.replaceChildren(h('span', 'attachment-name', name), progress, status, cancel);
    li.classList.remove('failed', 'done');
    item.controller = new AbortController();
    cancel.addEventListener('click', () => {
      if (item.ref || li.classList.contains('failed')) this.remove(item);
      else item.controller.abort();
    });
    const onProgress = (loaded, total) => {
      progress.value = total > 0 ? Math.round((loaded / total) * 100) : 0;
    };
    this.upload(file, { onProgress, signal: item.controller.signal }).then(
      (ref) => {
        item.ref = { ...ref, name };
        progress.value = 100;
        li.classList.add('done');
        status.textContent = `Ready: ${formatBytes(ref.size)}`;
        cancel.textContent = 'Remove';
        cancel.setAttribute('aria-label', `Remove ${name}`);
        this.onChange();
      },
      (err) => {
        if (err?.code === 'aborted') return this.remove(item);
        li.classList.add('failed');
        progress.remove();
        status.textContent = failureText(err ?? {});
        const retry = h('button', 'btn btn-secondary btn-small', 'Retry');
        retry.type = 'button';
        retry.setAttribute('aria-label', `Retry the upload of ${name}`);
        retry.addEventListener('click', () => this.start(item));
        cancel.textContent = 'Remove';
        cancel.setAttribute('aria-label', `Remove ${name}`);
        li.insertBefore(retry, cancel);
      },
    );
  }
}
