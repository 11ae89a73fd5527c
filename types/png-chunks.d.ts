declare module 'png-chunks-extract' {
  export default function extractChunks(data: Uint8Array): { name: string; data: Uint8Array }[];
}
declare module 'png-chunks-encode' {
  export default function encodeChunks(chunks: { name: string; data: Uint8Array }[]): Uint8Array;
}
