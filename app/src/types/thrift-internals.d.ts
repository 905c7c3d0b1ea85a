/**
 * The one thrift file the connector imports by path: the error its connections read as "wait
 * for more bytes" (they roll back and call again with the next chunk). The package does not
 * export it.
 */
declare module 'thrift/lib/nodejs/lib/thrift/input_buffer_underrun_error.js' {
  const InputBufferUnderrunError: new (message?: string) => Error;
  export default InputBufferUnderrunError;
}
