// TensorBoard's Event records (tensorboard/compat/proto/event.proto, summary.proto), encoded by
// hand: only the fields this project writes. Field numbers are the protos'.
import { ProtoWriter } from './protobuf.js';

/** The first record of every event file names the format (event.proto: "brain.Event:2"). */
export const FILE_VERSION = 'brain.Event:2';

const EventField = { wallTime: 1, step: 2, fileVersion: 3, summary: 5, sessionLog: 7 } as const;
const SummaryField = { value: 1 } as const;
const ValueField = { tag: 1, simpleValue: 2, tensor: 8, metadata: 9 } as const;
const MetadataField = { pluginData: 1, dataClass: 4 } as const;
const PluginDataField = { pluginName: 1, content: 2 } as const;
const TensorField = { dtype: 1, shape: 2, stringVal: 8 } as const;
const SessionLogField = { status: 1 } as const;

/** tensorflow DataType DT_STRING; SummaryMetadata DATA_CLASS_TENSOR; SessionLog START. */
const DT_STRING = 7;
const DATA_CLASS_TENSOR = 2;
const SESSION_START = 1;
/** The text plugin's name; its content is an empty TextPluginData (version 0). */
const TEXT_PLUGIN = 'text';

export type SummaryValue = { tag: string; scalar: number } | { tag: string; text: string };

function event(wallTime: number, step: number): ProtoWriter {
  return new ProtoWriter().double(EventField.wallTime, wallTime).varint(EventField.step, step);
}

export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(EventField.wallTime, wallTime).string(EventField.fileVersion, FILE_VERSION).finish();
}

/**
 * Tells TensorBoard the run (re)started at this step: it drops what an earlier file holds for
 * later steps, the part of a resumed run that is trained again.
 */
export function sessionStartEvent(wallTime: number, step: number): Uint8Array {
  return event(wallTime, step).bytes(EventField.sessionLog, new ProtoWriter().varint(SessionLogField.status, SESSION_START).finish()).finish();
}

export function summaryEvent(wallTime: number, step: number, values: readonly SummaryValue[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const value of values) summary.bytes(SummaryField.value, encodeValue(value));
  return event(wallTime, step).bytes(EventField.summary, summary.finish()).finish();
}

function encodeValue(value: SummaryValue): Uint8Array {
  const out = new ProtoWriter().string(ValueField.tag, value.tag);
  if ('scalar' in value) return out.float(ValueField.simpleValue, value.scalar).finish();
  const pluginData = new ProtoWriter().string(PluginDataField.pluginName, TEXT_PLUGIN).bytes(PluginDataField.content, new Uint8Array(0)).finish();
  const metadata = new ProtoWriter().bytes(MetadataField.pluginData, pluginData).varint(MetadataField.dataClass, DATA_CLASS_TENSOR).finish();
  // A rank-0 string tensor: an empty TensorShapeProto.
  const tensor = new ProtoWriter().varint(TensorField.dtype, DT_STRING).bytes(TensorField.shape, new Uint8Array(0)).string(TensorField.stringVal, value.text).finish();
  return out.bytes(ValueField.metadata, metadata).bytes(ValueField.tensor, tensor).finish();
}
