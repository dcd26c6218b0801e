// Minimal typing of seek-bzip (pure-JS bzip2 decoder; ships no types).
declare module 'seek-bzip' {
  const Bunzip: {
    /** Decodes a whole .bz2 stream; with `expectedSize`, throws when the output length differs. */
    decode(input: Buffer, expectedSize?: number): Buffer;
  };
  export default Bunzip;
}
