export { ClipTokenizer, TokenizerError, START_OF_TEXT, END_OF_TEXT, type ClipTokenizerInit, type TokenizeOptions, type TokenizedText } from './clip-tokenizer.js';
export {
  loadClipTokenizer, clipTokenizerFromOpenaiBpe, vocabAndMergesFromHf, vocabAndMergesFromTokenizerJson, vocabAndMergesFromOpenaiBpe,
} from './load.js';
export { normalizeClipText, preTokenize } from './normalize.js';
export { BytePairEncoder } from './bpe.js';
export { BYTE_ENCODER, BYTE_DECODER, bytesToUnicodeOrdered } from './byte-unicode.js';
