import type { Message, MessageType, NodeId } from '../types.js';

/** A message with every field defaulted (the wire codec relies on all fields being present). */
export function newMessage(
  type: MessageType,
  from: NodeId,
  to: NodeId,
  term: number,
  fields?: Partial<Message>,
): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: fields?.logTerm ?? 0,
    index: fields?.index ?? 0,
    commit: fields?.commit ?? 0,
    entries: fields?.entries ?? [],
    reject: fields?.reject ?? false,
    rejectHint: fields?.rejectHint ?? 0,
    context: fields?.context ?? 0,
    snapshot: fields?.snapshot ?? null,
  };
}

/** Vote message context marking a leadership-transfer election (bypasses leader stickiness). */
export const campaignTransfer = 1;
