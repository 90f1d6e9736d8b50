// The chat UI's markup, in one place: our page (public/js/app.js) and <chatterly-room>
// (public/sdk/chatterly-room.js) both draw it, so the two cannot drift. Every id is looked up
// through the Surface (surface.js): in a widget they live in its own shadow root.
//
// Embedded in another app's page, the landmarks are sections rather than main/aside/header: the
// host page has its own main and banner, and the chat is one region of it.

/**
 * @param {object} [o]
 * @param {string} [o.assets]    where our static files are ('' on our page; the server's origin in a widget)
 * @param {boolean} [o.embedded] drawn inside another app's page
 */
export function uiMarkup({ assets = '', embedded = false } = {}) {
  const t = embedded
    ? { main: 'section', aside: 'section', header: 'div' }
    : { main: 'main', aside: 'aside', header: 'header' };
  return `
  <!-- Join screen -->
  <${t.main} id="join-screen" class="join-screen" aria-labelledby="join-title">
    <div class="join-card">
      <div class="brand">
        <img class="brand-logo" src="${assets}/favicon.svg" alt="" width="40" height="40">
        <div>
          <h1 id="join-title">Chatterly</h1>
          <p class="tagline">Real-time rooms. No sign-up.</p>
        </div>
      </div>

      <form id="join-form" class="join-form" novalidate>
        <div class="field">
          <label for="join-name">Your name</label>
          <input id="join-name" name="name" type="text" autocomplete="nickname" maxlength="64"
                 required spellcheck="false" placeholder="e.g. Alice" aria-describedby="join-error">
        </div>
        <div class="field">
          <label for="join-room">Room</label>
          <input id="join-room" name="room" type="text" autocomplete="off" autocapitalize="none"
                 spellcheck="false" required placeholder="lobby" aria-describedby="room-hint join-error">
          <p id="room-hint" class="hint"><span id="room-hint-public">Letters, digits, <kbd>-</kbd> and <kbd>_</kbd>, up to 32 characters.</span><span id="room-hint-private" hidden>A private room: only people with its link can join.</span></p>
        </div>
        <details id="owner-key-box" class="owner-key-box">
          <summary>I own this room</summary>
          <div class="field">
            <label for="join-owner-key">Owner key</label>
            <input id="join-owner-key" name="owner_key" type="password" autocomplete="off" autocapitalize="none"
                   spellcheck="false" aria-describedby="owner-key-hint join-error">
            <p id="owner-key-hint" class="hint">The key shown when the room was created. This browser remembers it for rooms it created.</p>
          </div>
        </details>
        <div id="kicked-box" class="kicked-box" role="status" hidden></div>
        <p id="join-error" class="form-error" aria-live="polite"></p>
        <button id="join-button" class="btn btn-primary btn-block" type="submit">Join room</button>
      </form>

      <div class="divider" role="separator"><span>or</span></div>

      <section class="private" aria-labelledby="private-title">
        <h2 id="private-title" class="visually-hidden">Private room</h2>
        <button id="create-room" class="btn btn-secondary btn-block" type="button">Create private room</button>
        <p id="create-error" class="form-error" aria-live="polite"></p>
        <div id="share-box" class="share-box" hidden>
          <label for="share-link">Share this link with the people you want to invite:</label>
          <div class="share-row">
            <input id="share-link" type="text" readonly spellcheck="false">
            <button id="copy-link" class="btn btn-secondary" type="button">Copy</button>
          </div>
          <p id="copy-status" class="hint" aria-live="polite"></p>
          <div id="owner-key-share" class="owner-key-share" hidden>
            <label for="owner-key-value">Your owner key (shown only once):</label>
            <div class="share-row">
              <input id="owner-key-value" type="text" readonly spellcheck="false" aria-describedby="owner-key-note">
              <button id="copy-owner-key" class="btn btn-secondary" type="button">Copy</button>
            </div>
            <p id="owner-key-note" class="hint warning">Keep it secret: whoever has it can delete any message, remove people and lock the room. This browser keeps it for you; save a copy to own the room from elsewhere.</p>
            <p id="owner-key-status" class="hint" aria-live="polite"></p>
          </div>
          <p class="hint">The room field above now holds the private room: enter your name and join.</p>
        </div>
      </section>
    </div>
  </${t.main}>

  <!-- Chat screen -->
  <div id="chat-screen" class="chat-screen" hidden>
    <${t.header} class="chat-header">
      <div class="room-info">
        <h1 id="room-title" class="room-title">#lobby</h1>
        <p id="conn-status" class="conn-status" data-state="connecting">
          <span class="conn-dot" aria-hidden="true"></span>
          <span id="conn-text">Connecting…</span>
          <span id="room-locked" class="room-locked" hidden>· Locked</span>
          <button id="room-topic" class="room-topic" type="button" hidden></button>
        </p>
        <p id="conn-announce" class="visually-hidden" role="status" aria-live="polite"></p>
        <p id="room-counts" class="room-counts" hidden></p>
      </div>
      <form id="search-form" class="search-form" role="search" novalidate>
        <label for="search-input" class="visually-hidden">Search messages</label>
        <input id="search-input" type="search" placeholder="Search ( / )" maxlength="200" autocomplete="off"
               spellcheck="false" aria-keyshortcuts="/" aria-controls="search-panel">
      </form>
      <div class="header-actions">
        <button id="notify-button" class="btn btn-ghost btn-small icon-narrow" type="button" title="Notify me when someone mentions me" hidden>
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/></svg>
          <span class="label">Notify me</span>
        </button>
        <button id="reconnect-now" class="btn btn-ghost btn-small" type="button" hidden>Reconnect now</button>
        <button id="share-room" class="btn btn-ghost btn-small icon-narrow" type="button" title="Copy a link to this room">
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71"/><path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71"/></svg>
          <span class="label">Copy link</span>
        </button>
        <button id="settings-toggle" class="btn btn-ghost btn-small settings-toggle icon-narrow" type="button"
                aria-controls="members-panel" aria-expanded="false" hidden>
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><circle cx="12" cy="12" r="3"/><path d="M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 0 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06a1.65 1.65 0 0 0 .33-1.82 1.65 1.65 0 0 0-1.51-1H3a2 2 0 0 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06a1.65 1.65 0 0 0 1.82.33H9a1.65 1.65 0 0 0 1-1.51V3a2 2 0 0 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06a1.65 1.65 0 0 0-.33 1.82V9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 0 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z"/></svg>
          <span class="label">Settings</span>
        </button>
        <button id="members-toggle" class="btn btn-ghost btn-small members-toggle icon-narrow" type="button"
                aria-controls="members-panel" aria-expanded="false">
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/><path d="M23 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/></svg>
          <span class="label">People</span> <span id="members-toggle-count" class="badge">0</span>
        </button>
        <button id="leave-button" class="btn btn-danger btn-small" type="button">Leave</button>
      </div>
    </${t.header}>

    <div class="chat-body">
      <${t.main} class="conversation" aria-label="Conversation">
        <div id="scroller" class="scroller" tabindex="0" aria-label="Conversation">
          <p class="empty-state">No messages yet. Say hello!</p>
          <div id="log" class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages">
            <ol id="messages" class="messages"></ol>
          </div>
          <ol id="pending" class="messages pending-list" aria-label="Messages being sent"></ol>
        </div>
        <button id="new-messages" class="new-messages" type="button" hidden>New messages ↓</button>
        <div id="message-menu" class="message-menu" role="menu" aria-label="Message actions" hidden></div>
        <section id="search-panel" class="search-panel" aria-labelledby="search-title" hidden>
          <div class="search-panel-head">
            <h2 id="search-title" class="members-title">Search results</h2>
            <button id="search-close" class="btn btn-ghost btn-small" type="button" aria-label="Close search results">✕</button>
          </div>
          <p id="search-status" class="search-status" role="status"></p>
          <ol id="search-results" class="search-results"></ol>
          <button id="search-more" class="btn btn-secondary btn-block" type="button" hidden>More results</button>
        </section>

        <form id="composer" class="composer" novalidate>
          <p id="typing" class="typing" aria-live="polite"></p>
          <p id="history-notice" class="history-notice" role="status"></p>
          <p id="composer-error" class="composer-error" aria-live="assertive"></p>
          <div id="reply-preview" class="reply-preview" hidden>
            <p class="reply-preview-text"><span class="reply-label">Replying to</span> <strong id="reply-name"></strong>: <span id="reply-text"></span></p>
            <button id="reply-cancel" class="btn btn-ghost btn-small" type="button" aria-label="Cancel reply">✕</button>
          </div>
          <ul id="mention-list" class="mention-list" role="listbox" aria-label="Mention someone" hidden></ul>
          <ul id="attachments" class="attachments" aria-label="Files to send" hidden></ul>
          <div class="composer-row">
            <button id="attach-button" class="btn btn-ghost attach-button" type="button" aria-label="Attach files" title="Attach files (or drop or paste them)">📎</button>
            <input id="file-input" type="file" multiple hidden>
            <label for="message-input" class="visually-hidden">Message</label>
            <textarea id="message-input" rows="1" placeholder="Write a message…" autocomplete="off"
                      aria-describedby="composer-hint composer-error"></textarea>
            <button id="send-button" class="btn btn-primary send-button" type="submit">Send</button>
          </div>
          <p id="composer-hint" class="composer-hint"><kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line <span id="char-count" class="char-count"></span></p>
        </form>
      </${t.main}>

      <${t.aside} id="members-panel" class="members" aria-labelledby="members-title">
        <h2 id="members-title" class="members-title">People in this room <span id="members-count" class="badge">0</span></h2>
        <ul id="members-list" class="members-list"></ul>
        <section id="owner-panel" class="owner-panel" aria-labelledby="owner-title" hidden>
          <h2 id="owner-title" class="members-title">Room settings</h2>
          <form id="topic-form" class="topic-form" novalidate>
            <label for="topic-input">Topic</label>
            <div class="share-row">
              <input id="topic-input" type="text" autocomplete="off" placeholder="What this room is about">
              <button id="topic-save" class="btn btn-secondary" type="submit">Set topic</button>
            </div>
          </form>
          <form id="title-form" class="topic-form" novalidate>
            <label for="title-input">Room name</label>
            <div class="share-row">
              <input id="title-input" type="text" autocomplete="off" placeholder="e.g. Q3 planning">
              <button id="title-save" class="btn btn-secondary" type="submit">Set name</button>
            </div>
          </form>
          <button id="lock-button" class="btn btn-secondary btn-block" type="button" aria-pressed="false" aria-describedby="lock-state">Lock the room</button>
          <p id="lock-state" class="hint"></p>
        </section>
      </${t.aside}>
    </div>
  </div>

`;
}
