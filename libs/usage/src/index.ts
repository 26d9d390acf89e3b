export { extractUsage, extractCapture, type ExtractionResult } from './extract-usage';
export { decodeBody, parseContentEncoding, DEFAULT_MAX_DECODED_BYTES } from './decode/decode';
export type { DecodeResult, DecodeError, Coding } from './decode/decode';
export { extractorFor } from './extract/extractor-for';
export type { ExtractRequest, UsageExtractor, UsageReport, TokenCounter } from './extract/report';
export { counterFor, encodingFor, type Encoding, type EncodingCounter } from './estimate/encoding';
export { promptTokens } from './estimate/prompt';
export { isValidCapture, captureProblem } from './capture-shape';
