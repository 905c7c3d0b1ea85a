/**
 * What every transport does with one Thrift message: read the header and the argument struct,
 * check it is a CALL, and hand it to the service. Also finds message boundaries on the unframed
 * NOSASL stream, where the only way to know a message has ended is to parse it.
 */
import { MessageType, ThriftProtocolError, ThriftReader, ThriftUnderrunError } from '../thrift/binary-protocol.js';
import type { CallContext, CallOutcome, CliService } from '../service/cli-service.js';

export async function dispatch(service: CliService, message: Buffer, context: CallContext, maxMessageBytes: number): Promise<CallOutcome> {
  const reader = new ThriftReader(message, 0, maxMessageBytes);
  const header = reader.readMessageHeader();
  if (header.type !== MessageType.CALL && header.type !== MessageType.ONEWAY) {
    throw new ThriftProtocolError(`expected a CALL message, got message type ${header.type} for ${header.name}`);
  }
  const args = reader.readStruct();
  return service.call(header.name, header.seqid, args, context);
}

/** Length of the first complete message in `buffer`, or undefined when more bytes are needed. */
export function messageLength(buffer: Buffer, maxMessageBytes: number): number | undefined {
  const reader = new ThriftReader(buffer, 0, maxMessageBytes);
  try {
    reader.readMessageHeader();
    reader.readStruct();
  } catch (error) {
    if (error instanceof ThriftUnderrunError) {
      if (buffer.length > maxMessageBytes) throw new ThriftProtocolError(`a message longer than ${maxMessageBytes} bytes`);
      return undefined;
    }
    throw error;
  }
  return reader.position;
}
