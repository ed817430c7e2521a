#!/usr/bin/env python3
# Reads TensorBoard event files with Google's protobuf library (Debian: python3-protobuf) and
# the message definitions of tensorboard's event.proto, summary.proto and tensor.proto, declared
# here field by field; checks each record's masked CRC-32C; prints the events as JSON lines.
# A third reader, independent of src/tensorboard and of test/tensorboard/eventReader.ts.
import json
import struct
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def field(message, name, number, kind, type_name=None, repeated=False, oneof=None):
    f = message.field.add(name=name, number=number, type=kind,
                          label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
    if type_name:
        f.type_name = type_name
    if oneof is not None:
        f.oneof_index = oneof


def messages():
    file = descriptor_pb2.FileDescriptorProto(name='events_for_test.proto', package='tb', syntax='proto3')
    shape = file.message_type.add(name='TensorShapeProto')
    dim = shape.nested_type.add(name='Dim')
    field(dim, 'size', 1, F.TYPE_INT64)
    field(dim, 'name', 2, F.TYPE_STRING)
    field(shape, 'dim', 2, F.TYPE_MESSAGE, '.tb.TensorShapeProto.Dim', repeated=True)
    tensor = file.message_type.add(name='TensorProto')
    field(tensor, 'dtype', 1, F.TYPE_INT32)
    field(tensor, 'tensor_shape', 2, F.TYPE_MESSAGE, '.tb.TensorShapeProto')
    field(tensor, 'string_val', 8, F.TYPE_BYTES, repeated=True)
    metadata = file.message_type.add(name='SummaryMetadata')
    plugin = metadata.nested_type.add(name='PluginData')
    field(plugin, 'plugin_name', 1, F.TYPE_STRING)
    field(plugin, 'content', 2, F.TYPE_BYTES)
    field(metadata, 'plugin_data', 1, F.TYPE_MESSAGE, '.tb.SummaryMetadata.PluginData')
    field(metadata, 'data_class', 4, F.TYPE_INT32)
    summary = file.message_type.add(name='Summary')
    value = summary.nested_type.add(name='Value')
    value.oneof_decl.add(name='value')
    field(value, 'tag', 1, F.TYPE_STRING)
    field(value, 'simple_value', 2, F.TYPE_FLOAT, oneof=0)
    field(value, 'tensor', 8, F.TYPE_MESSAGE, '.tb.TensorProto', oneof=0)
    field(value, 'metadata', 9, F.TYPE_MESSAGE, '.tb.SummaryMetadata')
    field(summary, 'value', 1, F.TYPE_MESSAGE, '.tb.Summary.Value', repeated=True)
    session_log = file.message_type.add(name='SessionLog')
    field(session_log, 'status', 1, F.TYPE_INT32)
    event = file.message_type.add(name='Event')
    event.oneof_decl.add(name='what')
    field(event, 'wall_time', 1, F.TYPE_DOUBLE)
    field(event, 'step', 2, F.TYPE_INT64)
    field(event, 'file_version', 3, F.TYPE_STRING, oneof=0)
    field(event, 'summary', 5, F.TYPE_MESSAGE, '.tb.Summary', oneof=0)
    field(event, 'session_log', 7, F.TYPE_MESSAGE, '.tb.SessionLog', oneof=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName('tb.Event')
    if hasattr(message_factory, 'GetMessageClass'):  # protobuf 4.22 and later
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(data):
    at = 0
    while at + 12 <= len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack('<Q', header)
        (header_crc,) = struct.unpack('<I', data[at + 8:at + 12])
        if masked(crc32c(header)) != header_crc:
            raise ValueError(f'bad length CRC at byte {at}')
        end = at + 12 + length
        if end + 4 > len(data):
            return  # a torn last record
        payload = data[at + 12:end]
        (payload_crc,) = struct.unpack('<I', data[end:end + 4])
        if masked(crc32c(payload)) != payload_crc:
            raise ValueError(f'bad data CRC at byte {at}')
        yield payload
        at = end + 4


def main(directory):
    Event = messages()
    for path in sorted(p for p in Path(directory).iterdir() if 'tfevents' in p.name):
        for payload in records(path.read_bytes()):
            event = Event()
            event.ParseFromString(payload)
            out = {'file': path.name, 'step': event.step, 'wall_time': event.wall_time}
            if event.HasField('file_version'):
                out['file_version'] = event.file_version
            if event.HasField('session_log'):
                out['session_log'] = event.session_log.status
            values = []
            for v in event.summary.value:
                item = {'tag': v.tag}
                if v.HasField('tensor'):
                    item['text'] = v.tensor.string_val[0].decode('utf-8')
                    item['plugin'] = v.metadata.plugin_data.plugin_name
                else:
                    item['simple_value'] = v.simple_value
                values.append(item)
            if values:
                out['values'] = values
            print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1])
