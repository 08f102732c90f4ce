// The kernel's binary wire form of event columns (streamviz/widgets/_wire.py), built here for
// tests: numbers as little-endian buffers, texts as one UTF-8 blob and UTF-16 end offsets. Buffers
// are handed over as ipywidgets does, as DataViews; `offset` puts each at an odd place in a larger
// buffer (a reader must not assume alignment).
import contract from "../../../streamviz/widgets/contract.json" with { type: "json" };

const TYPES = { float64: Float64Array, int32: Int32Array, uint32: Uint32Array };

function view(typed, offset) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  const room = new Uint8Array(bytes.length + offset);
  room.set(bytes, offset);
  return new DataView(room.buffer, offset, bytes.length);
}

/** `events` (JSON form) with every column in its binary form. */
export function binaryEvents(events, { offset = 0 } = {}) {
  const wire = { ...events };
  for (const [name, type] of Object.entries(contract.binary.columns)) {
    const values = events[name];
    if (type === "utf8") {
      let at = 0;
      const ends = new Uint32Array(values.map((text) => (at += text.length)));
      wire[name] = { utf8: view(new TextEncoder().encode(values.join("")), offset), end: view(ends, offset) };
    } else {
      wire[name] = view(TYPES[type].from(values), offset);
    }
  }
  return wire;
}

/** A snapshot with its columns in binary form (as the `snapshot` trait arrives). */
export function binarySnapshot(snapshot, options) {
  return { ...snapshot, events: binaryEvents(snapshot.events, options) };
}

/** A delta as a custom message arrives: content naming its buffers' places, and the buffers. */
export function binaryMessage(delta, options) {
  const events = binaryEvents(delta.events, options);
  const paths = [];
  const buffers = [];
  const content = { ...delta, events: { extra: events.extra } };
  for (const name of Object.keys(contract.binary.columns)) {
    const value = events[name];
    if (value instanceof DataView) {
      paths.push(["events", name]);
      buffers.push(value);
    } else {
      content.events[name] = {};
      for (const part of contract.binary.text) {
        paths.push(["events", name, part]);
        buffers.push(value[part]);
      }
    }
  }
  content[contract.binary.buffer_paths] = paths;
  return { content, buffers };
}
