// Our page's entry point: the chat UI (mount.js) in the page's own document, with the room in the
// address (#room), the browser's storage, the title's counts and private rooms.

import { mount } from './mount.js';

document.documentElement.classList.add('js');
mount(document);
