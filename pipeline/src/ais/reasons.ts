import type { RejectReason, SkipReason } from './types.js';

/**
 * The closed label sets of the decoder's outcomes, in one place so metrics can pre-register
 * every value and a test can check that each one is reachable and documented.
 */
export const REJECT_REASONS: readonly RejectReason[] = [
  'checksum_mismatch',
  'checksum_missing',
  'tag_block_checksum_mismatch',
  'tag_block_malformed',
  'sentence_malformed',
  'line_too_long',
  'bad_armor_char',
  'bad_fill_bits',
  'bad_bit_length',
  'fragment_out_of_order',
  'fragment_timeout',
  'fragment_evicted',
  'unknown_type',
];

export const SKIP_REASONS: readonly SkipReason[] = ['blank', 'comment', 'non_ais'];
