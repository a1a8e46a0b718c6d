export { decodeConfChange, encodeConfChange } from './conf-change-codec.js';
export { applyConfChange } from './conf-tracker.js';
export { type MemoryLogInit, MemoryLogView } from './memory-log-view.js';
export { campaignTransfer, newMessage } from './message.js';
export { Core, createRaftCore } from './raft-core.js';
