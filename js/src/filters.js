// @ts-check
// Event filters with the semantics of LangChain's astream_events include_* / exclude_* arguments.
// The Python twin is streamviz/filters.py; both run tests/data/filter_vectors.json so they agree.
// An event passes when no include_* is given or it matches one of them (its name, its type, or any
// of its tags), and it matches none of the exclude_*. Matching looks at the event alone: children
// match a tag filter because LangChain copies inherited tags onto them.

const RUN_EVENT = /^on_(.+)_(start|stream|end|error)$/;

/**
 * @typedef {object} FilterEvent  an event as the filters see it
 * @property {string} event        its kind (`on_chat_model_stream`...)
 * @property {string} name
 * @property {string[]} [tags]
 * @property {string} [mode]       a LangGraph part's stream mode
 */

/**
 * @typedef {object} FilterSpec  astream_events' include_* / exclude_* arguments
 * @property {string | string[]} [include_names]
 * @property {string | string[]} [include_types]
 * @property {string | string[]} [include_tags]
 * @property {string | string[]} [exclude_names]
 * @property {string | string[]} [exclude_types]
 * @property {string | string[]} [exclude_tags]
 */

/**
 * The type an event is filtered by: its run type, a custom event's name, or its LangGraph mode.
 * @param {FilterEvent} event
 * @returns {string}
 */
export function eventType(event) {
  if (event.event === "on_custom_event") return event.name;
  const match = RUN_EVENT.exec(event.event);
  if (match) return match[1];
  return event.mode ?? event.event;
}

/**
 * @param {string | string[] | null | undefined} values
 * @returns {Set<string> | null}
 */
function asSet(values) {
  if (values === undefined || values === null) return null;
  return new Set(typeof values === "string" ? [values] : values);
}

/**
 * Build a predicate from {include_names, include_types, include_tags, exclude_*}.
 * @param {FilterSpec} [spec]
 * @returns {(event: FilterEvent) => boolean}
 */
export function makeFilter(spec = {}) {
  const includeNames = asSet(spec.include_names);
  const includeTypes = asSet(spec.include_types);
  const includeTags = asSet(spec.include_tags);
  const excludeNames = asSet(spec.exclude_names);
  const excludeTypes = asSet(spec.exclude_types);
  const excludeTags = asSet(spec.exclude_tags);
  const includeAll = !includeNames && !includeTypes && !includeTags;
  return (event) => {
    const tags = event.tags ?? [];
    const type = eventType(event);
    const kept =
      includeAll ||
      (includeNames?.has(event.name) ?? false) ||
      (includeTypes?.has(type) ?? false) ||
      (includeTags ? tags.some((tag) => includeTags.has(tag)) : false);
    if (!kept) return false;
    if (excludeNames?.has(event.name)) return false;
    if (excludeTypes?.has(type)) return false;
    return !(excludeTags && tags.some((tag) => excludeTags.has(tag)));
  };
}
