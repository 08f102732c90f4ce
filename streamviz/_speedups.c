/* streamviz._speedups: the per-token hot paths of capture, in C.
 *
 * A model streaming into a LangGraph agent makes two rows per token: its stream event (LangChain
 * calls the collector's on_llm_new_token) and the graph's "messages" part carrying the same chunk
 * (the watch loop records each part). In Python each costs 1.5-2 us, 6-8 % of what LangChain and
 * LangGraph themselves spend per token; here, a fraction of that.
 *
 * Each type below does the usual case only and hands everything else, unchanged, to the Python
 * function it was made with (the reference: streamviz/_log.py EventStore.stream_writer's
 * `write`, Collector.on_llm_new_token, GraphParts.put). The usual case is decided before anything
 * is written, so a call either writes its whole row here or leaves it all to Python. Nothing here
 * runs Python code between the first column append and the row's entry, so an interrupt (a
 * Ctrl-C is only seen between bytecodes) never lands inside a row.
 *
 *   Writer         one stream writer: stamps, packs and appends one row per call
 *   TokenCallback  a collector's on_llm_new_token: the chunk of the run of the previous token
 *                  straight to that run's writer
 *   PartPut        a graph recorder's put: the next "messages" part of the same model call
 *                  straight to its writer
 *   rows_fit,      loading a columnar file: which token rows are their run's pieces around
 *   plain_texts    their text (see "loading" below; the reference is Arrow compute in
 *                  streamviz/_columnar.py, _Checker._fits)
 *   same_json      loading: whether a LangChain object's JSON is that of one already decoded
 *                  (the reference: streamviz/_serialization.py, _json_key)
 *
 * The constants and types they compare against come from configure(), called once by _log.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <math.h>
#include <stddef.h>
#include <time.h>

/* ------------------------------------------------------------------ configuration */
static PyTypeObject *message_type;  /* langchain_core's AIMessageChunk */
static PyTypeObject *text_type;     /* langchain_core's TextAccessor (a str subclass) */
static PyObject *unset;             /* _log._UNSET */
static Py_ssize_t plain_field_count = -1;
static int no_private;
static int monotonic_clock;  /* time.perf_counter is clock_gettime(CLOCK_MONOTONIC) */
static long kind_as_is, kind_text, kind_same, pair_tuple, pair_list;

/* names looked up per call, interned once */
static PyObject *s_slow, *s_unapplied, *s_content, *s_id, *s_extra, *s_private, *s_fields_set,
    *s_first_chunk, *s_last_chunk, *s_chunk_count, *s_message, *s_token_run, *s_live, *s_tapped,
    *s_chunk, *s_run_id, *s_latest, *s_pairs, *s_tags;
/* fields of a plain chunk: these must be empty (falsy), and these None */
static PyObject *s_empty[5], *s_none[3];
static PyObject *one;  /* the int 1 */

static int
intern_names(void)
{
#define NAME(var, text) if (!((var) = PyUnicode_InternFromString(text))) return -1
    NAME(s_slow, "_slow");
    NAME(s_unapplied, "_unapplied");
    NAME(s_content, "content");
    NAME(s_id, "id");
    NAME(s_extra, "__pydantic_extra__");
    NAME(s_private, "__pydantic_private__");
    NAME(s_fields_set, "__pydantic_fields_set__");
    NAME(s_first_chunk, "first_chunk");
    NAME(s_last_chunk, "last_chunk");
    NAME(s_chunk_count, "chunk_count");
    NAME(s_message, "message");
    NAME(s_token_run, "_token_run");
    NAME(s_live, "live");
    NAME(s_tapped, "tapped");
    NAME(s_chunk, "chunk");
    NAME(s_run_id, "run_id");
    NAME(s_latest, "_latest");
    NAME(s_pairs, "_pairs");
    NAME(s_tags, "tags");
    NAME(s_empty[0], "additional_kwargs");
    NAME(s_empty[1], "response_metadata");
    NAME(s_empty[2], "tool_call_chunks");
    NAME(s_empty[3], "tool_calls");
    NAME(s_empty[4], "invalid_tool_calls");
    NAME(s_none[0], "usage_metadata");
    NAME(s_none[1], "name");
    NAME(s_none[2], "chunk_position");
#undef NAME
    if (!(one = PyLong_FromLong(1)))
        return -1;
    return 0;
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *message, *text, *marker;
    if (!PyArg_ParseTuple(args, "O!O!Onplllllp:configure", &PyType_Type, &message, &PyType_Type,
                          &text, &marker, &plain_field_count, &no_private, &kind_as_is,
                          &kind_text, &kind_same, &pair_tuple, &pair_list, &monotonic_clock))
        return NULL;
    Py_INCREF(message);
    Py_INCREF(text);
    Py_INCREF(marker);
    Py_XSETREF(message_type, (PyTypeObject *)message);
    Py_XSETREF(text_type, (PyTypeObject *)text);
    Py_XSETREF(unset, marker);
    Py_RETURN_NONE;
}

/* 1 if `obj.name` is truthy, 0 if falsy, -1 on error (set) */
static int
attr_true(PyObject *obj, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

/* Report `error` (the exception set now) through `report` if it is an Exception, as the Python
 * paths' `except Exception` do; anything else (KeyboardInterrupt...) stays raised. */
static PyObject *
report_or_raise(PyObject *report)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL && value != NULL)
        PyException_SetTraceback(value, traceback);
    PyObject *result = PyObject_CallOneArg(report, value ? value : Py_None);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return result;  /* None, or NULL if reporting itself failed */
}

/* ------------------------------------------------------------------ Writer */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *fallback;         /* the Python writer: every case this one does not take */
    PyObject *store;
    PyObject *acquire, *release, *clock;
    PyObject *t_append, *template_append, *thread_append, *kind_append;
    PyObject *t_column, *template_column;  /* arrays: their lengths */
    PyObject *values;                      /* a list */
    PyObject *entries_append;
    PyObject *last;             /* the store's [chunk, row] of the latest row kept whole */
    PyObject *state;            /* [message id, fields set, its code, metadata of the parts] */
    PyObject *run;              /* the run whose counters each row updates, or None */
    PyObject *template;         /* the writer's template code (an int) */
    double t0;
} Writer;

static PyTypeObject WriterType;

#define WRITER_FIELDS(X) \
    X(fallback) X(store) X(acquire) X(release) X(clock) X(t_append) X(template_append) \
    X(thread_append) X(kind_append) X(t_column) X(template_column) X(values) X(entries_append) X(last) \
    X(state) X(run) X(template)

static int
writer_traverse(Writer *self, visitproc visit, void *arg)
{
#define VISIT(field) Py_VISIT(self->field);
    WRITER_FIELDS(VISIT)
#undef VISIT
    return 0;
}

static int
writer_clear(Writer *self)
{
#define CLEAR(field) Py_CLEAR(self->field);
    WRITER_FIELDS(CLEAR)
#undef CLEAR
    return 0;
}

static void
writer_dealloc(Writer *self)
{
    PyObject_GC_UnTrack(self);
    writer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Nanoseconds as seconds, rounded as time.perf_counter rounds them (_PyTime_AsSecondsDouble). */
static double
seconds(long long ns)
{
    if (ns % 1000000000LL == 0)
        return (double)(ns / 1000000000LL);
    return (double)ns / 1e9;
}

static int
call_one(PyObject *function, PyObject *arg)
{
    PyObject *result = PyObject_CallOneArg(function, arg);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

static int
unlock(Writer *self)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *result = PyObject_CallNoArgs(self->release);
    if (result == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
        return -1;
    }
    Py_DECREF(result);
    PyErr_Restore(type, value, traceback);
    return type == NULL ? 0 : -1;
}

/* How `chunk` is kept, when it is the usual case: 1 with *value (new ref) and *kind set; 0 for
 * the Python writer (nothing changed, no error set); -1 on error. */
static int
writer_pack(Writer *self, PyObject *chunk, PyObject **value, long *kind)
{
    PyObject *last_chunk = PyList_GET_ITEM(self->last, 0);
    if (chunk == last_chunk && chunk != Py_None) {  /* the previous row's object again */
        *value = Py_NewRef(PyList_GET_ITEM(self->last, 1));
        *kind = kind_same;
        return 1;
    }
    PyTypeObject *cls = Py_TYPE(chunk);
    PyObject *message = chunk;
    long pair = 0;
    if (cls == text_type) {  /* a parser's text: kept as a plain str */
        *value = PyUnicode_FromObject(chunk);
        *kind = kind_text;
        return *value == NULL ? -1 : 1;
    }
    if ((cls == &PyTuple_Type || cls == &PyList_Type) && Py_SIZE(chunk) == 2) {
        PyObject **items = cls == &PyTuple_Type ? ((PyTupleObject *)chunk)->ob_item
                                                : ((PyListObject *)chunk)->ob_item;
        PyObject *metadata = PyList_GET_ITEM(self->state, 3);
        /* a "messages" part whose metadata is the very object of this writer's first part */
        if (Py_TYPE(items[0]) != message_type || metadata == unset || items[1] != metadata)
            return 0;
        message = items[0];
        pair = cls == &PyTuple_Type ? pair_tuple : pair_list;
    }
    else if (cls != message_type) {
        return 0;
    }
    PyObject *message_id = PyList_GET_ITEM(self->state, 0);
    if (message_id == unset)
        return 0;
    PyObject *attrs = PyObject_GenericGetDict(message, NULL);
    if (attrs == NULL)
        goto odd;
    int packable = PyDict_CheckExact(attrs) && PyDict_GET_SIZE(attrs) == plain_field_count;
    PyObject *content = NULL;
    if (packable) {
        content = PyDict_GetItemWithError(attrs, s_content);
        packable = content != NULL && PyUnicode_CheckExact(content);
        /* held: the checks below may run Python code (an odd field's __bool__, an id's __eq__) */
        content = packable ? Py_NewRef(content) : NULL;
    }
    for (int i = 0; packable && i < 5; i++) {
        PyObject *field = PyDict_GetItemWithError(attrs, s_empty[i]);
        packable = field != NULL && PyObject_IsTrue(field) == 0;
    }
    for (int i = 0; packable && i < 3; i++)
        packable = PyDict_GetItemWithError(attrs, s_none[i]) == Py_None;
    if (packable) {
        PyObject *id = PyDict_GetItemWithError(attrs, s_id);
        packable = id != NULL && PyObject_RichCompareBool(id, message_id, Py_EQ) == 1;
    }
    Py_DECREF(attrs);
    if (!packable) {
        Py_XDECREF(content);
        goto odd;
    }
    if (attr_true(message, s_extra) != 0 || (!no_private && attr_true(message, s_private) != 0))
        goto odd_content;
    PyObject *fields_set = PyObject_GetAttr(message, s_fields_set);
    if (fields_set == NULL)
        goto odd_content;
    int same_fields = PyObject_RichCompareBool(fields_set, PyList_GET_ITEM(self->state, 1), Py_EQ);
    Py_DECREF(fields_set);
    if (same_fields != 1)  /* a new set of fields: the Python writer learns its code */
        goto odd_content;
    long code = PyLong_AsLong(PyList_GET_ITEM(self->state, 2));
    if (code == -1 && PyErr_Occurred())
        goto odd_content;
    *value = content;
    *kind = code + pair;
    return 1;
odd_content:
    Py_DECREF(content);
odd:  /* whatever went wrong, the Python writer decides how this chunk is kept */
    PyErr_Clear();
    return 0;
}

/* The usual case: 1 when the row was written, 0 when it is the Python writer's (nothing was
 * changed), -1 on error (raised; the lock released). */
static int
writer_fast(Writer *self, PyObject *chunk)
{
    /* The store's lock (an RLock: a subscriber's writer may already hold it), for the row. */
    PyObject *result = PyObject_CallNoArgs(self->acquire);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    double t;  /* stamped under the lock: rows stay in time order */
    if (monotonic_clock) {  /* what time.perf_counter reads here, without the call */
        struct timespec now;
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
            return unlock(self) < 0 ? -1 : 0;
        t = seconds((long long)now.tv_sec * 1000000000LL + now.tv_nsec) - self->t0;
    }
    else {
        PyObject *now = PyObject_CallNoArgs(self->clock);
        if (now == NULL)
            return unlock(self), -1;
        t = PyFloat_AsDouble(now) - self->t0;
        Py_DECREF(now);
        if (t == -1.0 && PyErr_Occurred())
            return unlock(self), -1;
    }
    int slow = attr_true(self->store, s_slow);
    Py_ssize_t row = PyObject_Size(self->t_column);
    Py_ssize_t templates = PyObject_Size(self->template_column);
    PyObject *unapplied = PyObject_GetAttr(self->store, s_unapplied);
    /* subscribers or a read-only view (the full path); an interrupted append (settled there);
     * lists of another shape than the writer was made with */
    if (slow != 0 || row < 0 || templates < 0 || unapplied == NULL || unapplied != Py_None
        || templates != PyList_GET_SIZE(self->values) || PyList_GET_SIZE(self->last) != 2
        || PyList_GET_SIZE(self->state) != 4) {
        Py_XDECREF(unapplied);
        PyErr_Clear();
        return unlock(self) < 0 ? -1 : 0;
    }
    Py_DECREF(unapplied);
    /* How the chunk is kept, under the lock as in the Python writer (an odd id's == may run
     * Python code). */
    PyObject *value;
    long kind;
    int packed = writer_pack(self, chunk, &value, &kind);
    if (packed <= 0)
        return unlock(self) < 0 ? -1 : packed;
    /* The row: no Python code runs from here to its entry. */
    PyObject *t_obj = PyFloat_FromDouble(t);
    PyObject *thread = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    PyObject *kind_obj = PyLong_FromLong(kind);
    PyObject *row_obj = PyLong_FromSsize_t(row);
    int failed = t_obj == NULL || thread == NULL || kind_obj == NULL || row_obj == NULL
        || call_one(self->template_append, self->template) < 0
        || call_one(self->t_append, t_obj) < 0
        || call_one(self->thread_append, thread) < 0
        || call_one(self->kind_append, kind_obj) < 0
        || PyList_Append(self->values, value) < 0
        || call_one(self->entries_append, row_obj) < 0;
    PyObject *old_chunk = NULL, *old_row = NULL;
    if (!failed && kind != kind_same) {  /* last[0], last[1] = chunk, row */
        old_chunk = PyList_GET_ITEM(self->last, 0);
        old_row = PyList_GET_ITEM(self->last, 1);
        PyList_SET_ITEM(self->last, 0, Py_NewRef(chunk));
        PyList_SET_ITEM(self->last, 1, Py_NewRef(row_obj));
    }
    Py_XDECREF(thread);
    Py_XDECREF(kind_obj);
    Py_DECREF(value);
    if (!failed && self->run != Py_None) {  /* RunTree.apply's stream branch */
        PyObject *first = PyObject_GetAttr(self->run, s_first_chunk);
        PyObject *count = first == NULL ? NULL : PyObject_GetAttr(self->run, s_chunk_count);
        PyObject *more = count == NULL ? NULL : PyNumber_Add(count, one);
        failed = more == NULL
            || (first == Py_None && PyObject_SetAttr(self->run, s_first_chunk, t_obj) < 0)
            || PyObject_SetAttr(self->run, s_last_chunk, t_obj) < 0
            || PyObject_SetAttr(self->run, s_chunk_count, more) < 0;
        Py_XDECREF(first);
        Py_XDECREF(count);
        Py_XDECREF(more);
    }
    Py_XDECREF(t_obj);
    Py_XDECREF(row_obj);
    if (unlock(self) < 0 || failed)
        failed = 1;
    Py_XDECREF(old_chunk);  /* after the lock: freeing a chunk may run Python code */
    Py_XDECREF(old_row);
    return failed ? -1 : 1;
}

static PyObject *
writer_write(Writer *self, PyObject *chunk)
{
    int done = writer_fast(self, chunk);
    if (done < 0)
        return NULL;
    if (done == 0)
        return PyObject_CallOneArg(self->fallback, chunk);
    Py_RETURN_NONE;
}

static PyObject *
writer_vectorcall(Writer *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL)
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    return writer_write(self, args[0]);
}

static PyObject *
writer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {
        "fallback", "store", "acquire", "release", "clock", "t_append", "template_append",
        "thread_append", "kind_append", "t_column", "template_column", "values", "entries_append", "last",
        "state", "run", "template", "t0", NULL};
    PyObject *o[17];
    double t0;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "OOOOOOOOOOOO!OO!O!OO!d:Writer", names, &o[0], &o[1], &o[2], &o[3],
            &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10], &PyList_Type, &o[11], &o[12],
            &PyList_Type, &o[13], &PyList_Type, &o[14], &o[15], &PyLong_Type, &o[16],
            &t0))
        return NULL;
    if (PyList_GET_SIZE(o[13]) != 2 || PyList_GET_SIZE(o[14]) != 4) {
        PyErr_SetString(PyExc_ValueError, "Writer: `last` needs 2 items and `state` 4");
        return NULL;
    }
    if (message_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "streamviz._speedups.configure was not called");
        return NULL;
    }
    Writer *self = (Writer *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    PyObject **fields[] = {
        &self->fallback, &self->store, &self->acquire, &self->release, &self->clock,
        &self->t_append, &self->template_append, &self->thread_append, &self->kind_append,
        &self->t_column, &self->template_column, &self->values, &self->entries_append, &self->last,
        &self->state, &self->run, &self->template};
    for (int i = 0; i < 17; i++)
        *fields[i] = Py_NewRef(o[i]);
    self->t0 = t0;
    self->vectorcall = (vectorcallfunc)writer_vectorcall;
    return (PyObject *)self;
}

static PyObject *
writer_get_fallback(Writer *self, void *closure)
{
    return Py_NewRef(self->fallback);
}

static PyGetSetDef writer_getset[] = {
    {"fallback", (getter)writer_get_fallback, NULL, "The Python writer this one stands for.", NULL},
    {NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "streamviz._speedups.Writer",
    .tp_doc = PyDoc_STR("A stream writer: one row per call (see EventStore.stream_writer)."),
    .tp_basicsize = sizeof(Writer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = writer_new,
    .tp_dealloc = (destructor)writer_dealloc,
    .tp_traverse = (traverseproc)writer_traverse,
    .tp_clear = (inquiry)writer_clear,
    .tp_vectorcall_offset = offsetof(Writer, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_getset = writer_getset,
};

/* Calls `write(chunk)`: a Writer without leaving C. */
static PyObject *
call_writer(PyObject *write, PyObject *chunk)
{
    if (Py_TYPE(write) == &WriterType)
        return writer_write((Writer *)write, chunk);
    return PyObject_CallOneArg(write, chunk);
}

/* ------------------------------------------------------------------ callables with a fallback */
/* TokenCallback and PartPut: an owner (the collector, the graph recorder), the Python method they
 * stand for, and what reports a writer's error (report_internal_error with the method's name). */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *owner;
    PyObject *fallback;
    PyObject *report;
} Shortcut;

static int
shortcut_traverse(Shortcut *self, visitproc visit, void *arg)
{
    Py_VISIT(self->owner);
    Py_VISIT(self->fallback);
    Py_VISIT(self->report);
    return 0;
}

static int
shortcut_clear(Shortcut *self)
{
    Py_CLEAR(self->owner);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->report);
    return 0;
}

static void
shortcut_dealloc(Shortcut *self)
{
    PyObject_GC_UnTrack(self);
    shortcut_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
shortcut_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"owner", "fallback", "report", NULL};
    PyObject *owner, *fallback, *report;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO", names, &owner, &fallback, &report))
        return NULL;
    Shortcut *self = (Shortcut *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->owner = Py_NewRef(owner);
    self->fallback = Py_NewRef(fallback);
    self->report = Py_NewRef(report);
    return (PyObject *)self;
}

static PyObject *
shortcut_get_fallback(Shortcut *self, void *closure)
{
    return Py_NewRef(self->fallback);
}

static PyGetSetDef shortcut_getset[] = {
    {"fallback", (getter)shortcut_get_fallback, NULL, "The Python method this one stands for.",
     NULL},
    {NULL},
};

/* The usual token of a chat model (Collector.on_llm_new_token): the run of the previous token,
 * still live, not tapped, with a writer: its chunk's message to that writer. */
static PyObject *
token_vectorcall(Shortcut *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *chunk = NULL, *run_id = NULL;
    if (kwnames != NULL) {  /* by identity (interned names), else by value */
        Py_ssize_t count = PyTuple_GET_SIZE(kwnames);
        for (int by_value = 0; by_value < 2 && (chunk == NULL || run_id == NULL); by_value++) {
            for (Py_ssize_t i = 0; i < count; i++) {
                PyObject *name = PyTuple_GET_ITEM(kwnames, i);
                if (chunk == NULL && (by_value ? PyUnicode_Compare(name, s_chunk) == 0
                                               : name == s_chunk))
                    chunk = args[nargs + i];
                else if (run_id == NULL && (by_value ? PyUnicode_Compare(name, s_run_id) == 0
                                                     : name == s_run_id))
                    run_id = args[nargs + i];
            }
        }
        if (PyErr_Occurred())
            PyErr_Clear();
    }
    if (nargs > 1 || chunk == NULL || chunk == Py_None || run_id == NULL)
        goto fallback;
    PyObject *latest = PyObject_GetAttr(self->owner, s_token_run);
    if (latest == NULL)
        goto clear;
    if (!PyTuple_CheckExact(latest) || PyTuple_GET_SIZE(latest) != 3
        || PyTuple_GET_ITEM(latest, 0) != run_id || PyTuple_GET_ITEM(latest, 2) == Py_None) {
        Py_DECREF(latest);
        goto fallback;
    }
    PyObject *info = PyTuple_GET_ITEM(latest, 1);
    if (attr_true(info, s_live) != 1 || attr_true(info, s_tapped) != 0) {
        Py_DECREF(latest);
        goto clear;
    }
    PyObject *message = PyObject_GetAttr(chunk, s_message);
    if (message == NULL) {
        Py_DECREF(latest);
        goto clear;
    }
    PyObject *result = call_writer(PyTuple_GET_ITEM(latest, 2), message);
    Py_DECREF(message);
    Py_DECREF(latest);
    if (result == NULL)
        return report_or_raise(self->report);
    return result;
clear:
    PyErr_Clear();
fallback:
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* Whether a part's metadata is as it was when its model call's writer was chosen:
 * GraphParts' _unchanged for dicts (anything else: not known, 0). */
static int
unchanged(PyObject *metadata, PyObject *copy, PyObject *tags)
{
    if (!PyDict_CheckExact(metadata) || !PyDict_CheckExact(copy)
        || PyDict_GET_SIZE(metadata) != PyDict_GET_SIZE(copy)
        || PyObject_RichCompareBool(copy, metadata, Py_EQ) != 1)
        return 0;
    PyObject *now = PyDict_GetItemWithError(metadata, s_tags);
    int now_true = now == NULL ? 0 : PyObject_IsTrue(now);
    if (now_true < 0)
        return 0;
    if (!now_true)
        return PyObject_IsTrue(tags) == 0;
    return PyTuple_CheckExact(now) || PyObject_RichCompareBool(now, tags, Py_EQ) == 1;
}

/* The next "messages" part of the previous part's model call (GraphParts.put): to its writer. */
static PyObject *
part_vectorcall(Shortcut *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL)
        goto fallback;
    PyObject *item = args[0];
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2)
        goto fallback;
    PyObject *chunk = PyTuple_GET_ITEM(item, 1);
    if (!PyTuple_CheckExact(chunk) || PyTuple_GET_SIZE(chunk) != 2)
        goto fallback;
    PyObject *latest = PyObject_GetAttr(self->owner, s_latest);
    if (latest == NULL)
        goto clear;
    int pairs = attr_true(self->owner, s_pairs);
    int usual = pairs == 1 && PyTuple_CheckExact(latest) && PyTuple_GET_SIZE(latest) >= 6
        && PyTuple_GET_ITEM(chunk, 1) == PyTuple_GET_ITEM(latest, 0)
        && PyObject_IsTrue(PyTuple_GET_ITEM(latest, 1)) == 0
        && PyObject_RichCompareBool(PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(latest, 2), Py_EQ)
            == 1
        && unchanged(PyTuple_GET_ITEM(chunk, 1), PyTuple_GET_ITEM(latest, 3),
                     PyTuple_GET_ITEM(latest, 4)) == 1;
    if (!usual) {
        Py_DECREF(latest);
        goto clear;
    }
    PyObject *result = call_writer(PyTuple_GET_ITEM(latest, 5), chunk);
    Py_DECREF(latest);
    if (result == NULL)
        return report_or_raise(self->report);
    return result;
clear:
    PyErr_Clear();
fallback:
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

static PyObject *
token_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Shortcut *self = (Shortcut *)shortcut_new(type, args, kwargs);
    if (self != NULL)
        self->vectorcall = (vectorcallfunc)token_vectorcall;
    return (PyObject *)self;
}

static PyObject *
part_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Shortcut *self = (Shortcut *)shortcut_new(type, args, kwargs);
    if (self != NULL)
        self->vectorcall = (vectorcallfunc)part_vectorcall;
    return (PyObject *)self;
}

#define SHORTCUT_TYPE(var, name, doc, new)                                            \
    static PyTypeObject var = {                                                       \
        PyVarObject_HEAD_INIT(NULL, 0)                                                \
        .tp_name = "streamviz._speedups." name,                                       \
        .tp_doc = PyDoc_STR(doc),                                                     \
        .tp_basicsize = sizeof(Shortcut),                                             \
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL, \
        .tp_new = new,                                                                \
        .tp_dealloc = (destructor)shortcut_dealloc,                                   \
        .tp_traverse = (traverseproc)shortcut_traverse,                               \
        .tp_clear = (inquiry)shortcut_clear,                                          \
        .tp_vectorcall_offset = offsetof(Shortcut, vectorcall),                       \
        .tp_call = PyVectorcall_Call,                                                 \
        .tp_getset = shortcut_getset,                                                 \
    }

SHORTCUT_TYPE(TokenCallbackType, "TokenCallback",
              "A collector's on_llm_new_token (owner, fallback, report).", token_new);
SHORTCUT_TYPE(PartPutType, "PartPut", "A graph recorder's put (owner, fallback, report).",
              part_new);

/* ------------------------------------------------------------------ loading: token rows
 *
 * A columnar trace file holds each event's data as JSON text and, for a token, the token's text
 * beside it. A loader stores a run's token rows compactly once it knows the pieces of data around
 * the text (streamviz/_columnar.py, _Checker): these two functions are its per-row tests, over
 * the Arrow arrays' buffers, with nothing allocated per row. The Python reference builds the
 * expected texts with Arrow compute and compares them. */

/* The offsets of a string array (int32, or int64 when `wide`) and its bytes. */
typedef struct {
    Py_buffer offsets, values;
    Py_ssize_t first, count; /* the array's offset, and its length in offsets less one */
    int wide;
} Strings;

static int
strings_open(Strings *s, PyObject *offsets, PyObject *values, Py_ssize_t first,
             Py_ssize_t count, int wide)
{
    s->offsets.obj = s->values.obj = NULL;
    if (PyObject_GetBuffer(offsets, &s->offsets, PyBUF_SIMPLE) < 0)
        return -1;
    if (values == Py_None) { /* every string empty: Arrow may leave the buffer out */
        s->values.buf = NULL;
        s->values.len = 0;
    }
    else if (PyObject_GetBuffer(values, &s->values, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&s->offsets);
        return -1;
    }
    s->wide = wide;
    s->first = first;
    s->count = count;
    if (first < 0 || count < 0 || s->offsets.len / (wide ? 8 : 4) < first + count + 1) {
        PyErr_SetString(PyExc_ValueError, "offsets shorter than the array's offset");
        PyBuffer_Release(&s->offsets);
        if (s->values.obj != NULL)
            PyBuffer_Release(&s->values);
        return -1;
    }
    return 0;
}

static void
strings_close(Strings *s)
{
    PyBuffer_Release(&s->offsets);
    if (s->values.obj != NULL)
        PyBuffer_Release(&s->values);
}

/* String `row`'s bytes and length: 0 if its offsets are out of bounds (then nothing is set).
 * An empty string's bytes may be NULL (an array of empty strings may have no values buffer). */
static int
strings_at(const Strings *s, Py_ssize_t row, const char **bytes, Py_ssize_t *length)
{
    int64_t start, end;
    if (row < 0 || row >= s->count)
        return 0;
    if (s->wide) {
        const int64_t *o = (const int64_t *)s->offsets.buf;
        start = o[s->first + row], end = o[s->first + row + 1];
    }
    else {
        const int32_t *o = (const int32_t *)s->offsets.buf;
        start = o[s->first + row], end = o[s->first + row + 1];
    }
    if (start < 0 || end < start || end > (int64_t)s->values.len)
        return 0;
    *length = (Py_ssize_t)(end - start);
    *bytes = end == start ? "" : (const char *)s->values.buf + start;
    return 1;
}

/* Whether a text is its own JSON string's inside: no quote, backslash or control character. */
static int
plain_text(const char *text, Py_ssize_t length)
{
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

static PyObject *
plain_texts(PyObject *module, PyObject *args)
{
    PyObject *offsets, *values;
    Py_ssize_t first, count;
    Strings texts;
    if (!PyArg_ParseTuple(args, "OOnn:plain_texts", &offsets, &values, &first, &count))
        return NULL;
    if (strings_open(&texts, offsets, values, first, count, 0) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, texts.count);
    if (out != NULL) {
        char *flags = PyBytes_AS_STRING(out);
        for (Py_ssize_t row = 0; row < texts.count; row++) {
            const char *text;
            Py_ssize_t length;
            flags[row] = (char)(strings_at(&texts, row, &text, &length)
                                && plain_text(text, length));
        }
    }
    strings_close(&texts);
    return out;
}

/* A piece of `pieces` as bytes, or NULL for None (no such piece: the row does not fit). */
static int
piece_at(PyObject *pieces, Py_ssize_t index, const char **bytes, Py_ssize_t *length)
{
    PyObject *piece = PyList_GET_ITEM(pieces, index);
    if (piece == Py_None) {
        *bytes = NULL;
        return 0;
    }
    if (!PyBytes_Check(piece)) {
        PyErr_SetString(PyExc_TypeError, "pieces must be bytes or None");
        return -1;
    }
    *bytes = PyBytes_AS_STRING(piece);
    *length = PyBytes_GET_SIZE(piece);
    return 0;
}

static PyObject *
rows_fit(PyObject *module, PyObject *args)
{
    PyObject *data_offsets, *data_values, *text_offsets, *text_values, *rows_obj, *which_obj,
        *befores, *afters;
    Py_ssize_t data_first, text_first, length;
    int wide;
    if (!PyArg_ParseTuple(args, "OOnpOOnnOOO!O!:rows_fit", &data_offsets, &data_values,
                          &data_first, &wide, &text_offsets, &text_values, &text_first, &length,
                          &rows_obj, &which_obj, &PyList_Type, &befores, &PyList_Type, &afters))
        return NULL;
    if (PyList_GET_SIZE(befores) != PyList_GET_SIZE(afters)) {
        PyErr_SetString(PyExc_ValueError, "as many pieces before as after");
        return NULL;
    }
    Strings data, texts;
    Py_buffer rows, which;
    PyObject *out = NULL;
    if (strings_open(&data, data_offsets, data_values, data_first, length, wide) < 0)
        return NULL;
    if (strings_open(&texts, text_offsets, text_values, text_first, length, 0) < 0) {
        strings_close(&data);
        return NULL;
    }
    if (PyObject_GetBuffer(rows_obj, &rows, PyBUF_SIMPLE) < 0)
        goto close_strings;
    if (PyObject_GetBuffer(which_obj, &which, PyBUF_SIMPLE) < 0)
        goto close_rows;
    Py_ssize_t count = rows.len / 8, pieces = PyList_GET_SIZE(befores);
    if (which.len != rows.len) {
        PyErr_SetString(PyExc_ValueError, "rows and which must be int64 arrays of one length");
        goto close_which;
    }
    out = PyBytes_FromStringAndSize(NULL, count);
    if (out == NULL)
        goto close_which;
    char *fits = PyBytes_AS_STRING(out);
    const int64_t *row_at = (const int64_t *)rows.buf, *which_at = (const int64_t *)which.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        /* data == before + '"' + text + '"' + after, where the pieces hold their quotes */
        int64_t k = which_at[i];
        const char *before, *after, *row_data, *text;
        Py_ssize_t before_length = 0, after_length = 0, data_length, text_length;
        fits[i] = 0;
        if (k < 0 || k >= pieces)
            continue;
        if (piece_at(befores, k, &before, &before_length) < 0
            || piece_at(afters, k, &after, &after_length) < 0) {
            Py_CLEAR(out);
            goto close_which;
        }
        if (before == NULL || after == NULL)
            continue;
        if (!strings_at(&data, row_at[i], &row_data, &data_length)
            || !strings_at(&texts, row_at[i], &text, &text_length)
            || data_length != before_length + text_length + after_length)
            continue;
        fits[i] = (char)(memcmp(row_data, before, before_length) == 0
                         && memcmp(row_data + before_length, text, text_length) == 0
                         && memcmp(row_data + before_length + text_length, after, after_length)
                                == 0);
    }
close_which:
    PyBuffer_Release(&which);
close_rows:
    PyBuffer_Release(&rows);
close_strings:
    strings_close(&texts);
    strings_close(&data);
    return out;
}

/* ------------------------------------------------------------------ same_json */
/* Loading: whether two values parsed from JSON are the same JSON text, as
 * streamviz/_serialization.py's _json_key tells them apart (the reference): the same type at every
 * level (1, 1.0 and true differ), an object's keys in the same order, floats equal with the same
 * sign (-0.0 is not 0.0) or both NaN. A value of any other type is never the same. 1, 0, or -1
 * with an exception (nesting too deep). */
static int
json_same(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    PyTypeObject *type = Py_TYPE(a);
    if (type != Py_TYPE(b))
        return 0;
    if (type == &PyUnicode_Type) {
        int order = PyUnicode_Compare(a, b);
        return order == -1 && PyErr_Occurred() ? -1 : order == 0;
    }
    if (type == &PyLong_Type)
        return PyObject_RichCompareBool(a, b, Py_EQ);
    if (type == &PyFloat_Type) {
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        if (isnan(x) || isnan(y))
            return isnan(x) && isnan(y);
        return x == y && signbit(x) == signbit(y);
    }
    if (type != &PyList_Type && type != &PyDict_Type)
        return 0;  /* True/False/None are singletons: equal ones were the same object */
    if (Py_SIZE(a) != Py_SIZE(b) && type == &PyList_Type)
        return 0;
    if (type == &PyDict_Type && PyDict_GET_SIZE(a) != PyDict_GET_SIZE(b))
        return 0;
    if (Py_EnterRecursiveCall(" in same_json"))
        return -1;
    int same = 1;
    if (type == &PyList_Type) {
        for (Py_ssize_t i = 0; same == 1 && i < PyList_GET_SIZE(a); i++) {
            if (i >= PyList_GET_SIZE(b)) {  /* (a list changed meanwhile) */
                same = 0;
                break;
            }
            PyObject *x = Py_NewRef(PyList_GET_ITEM(a, i)), *y = Py_NewRef(PyList_GET_ITEM(b, i));
            same = json_same(x, y);
            Py_DECREF(x);
            Py_DECREF(y);
        }
    }
    else {
        Py_ssize_t i = 0, j = 0;
        PyObject *key_a, *value_a, *key_b, *value_b;
        while (same == 1 && PyDict_Next(a, &i, &key_a, &value_a)) {
            if (!PyDict_Next(b, &j, &key_b, &value_b)) {
                same = 0;
                break;
            }
            Py_INCREF(key_a), Py_INCREF(value_a), Py_INCREF(key_b), Py_INCREF(value_b);
            same = json_same(key_a, key_b);
            if (same == 1)
                same = json_same(value_a, value_b);
            Py_DECREF(key_a), Py_DECREF(value_a), Py_DECREF(key_b), Py_DECREF(value_b);
        }
    }
    Py_LeaveRecursiveCall();
    return same;
}

static PyObject *
same_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "same_json takes two values");
        return NULL;
    }
    int same = json_same(args[0], args[1]);
    if (same < 0)
        return NULL;
    return PyBool_FromLong(same);
}

/* ------------------------------------------------------------------ module */
static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     PyDoc_STR("configure(message_type, text_type, unset, plain_field_count, no_private, as_is, "
               "text, same, pair_tuple, pair_list, monotonic_clock): what the writers compare against.")},
    {"plain_texts", plain_texts, METH_VARARGS,
     PyDoc_STR("plain_texts(offsets, values, offset, length) -> bytes: 1 for each string of an Arrow "
               "string array that needs no escape in a JSON string, else 0.")},
    {"same_json", (PyCFunction)(void (*)(void))same_json, METH_FASTCALL,
     PyDoc_STR("same_json(a, b) -> bool: whether two values parsed from JSON are the same JSON "
               "text (types, key order and the sign of zero kept apart; NaN the same as NaN).")},
    {"rows_fit", rows_fit, METH_VARARGS,
     PyDoc_STR("rows_fit(data_offsets, data_values, data_offset, wide, text_offsets, text_values, "
               "text_offset, length, rows, which, befores, afters) -> bytes: 1 where data[row] is "
               "befores[which] + text[row] + afters[which] (None: no), else 0.")},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "streamviz._speedups",
    .m_doc = PyDoc_STR("The per-token hot paths of capture in C (see streamviz/_speedups.c)."),
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (intern_names() < 0)
        return NULL;
    PyTypeObject *types[] = {&WriterType, &TokenCallbackType, &PartPutType};
    for (int i = 0; i < 3; i++)
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Writer", (PyObject *)&WriterType) < 0
        || PyModule_AddObjectRef(m, "TokenCallback", (PyObject *)&TokenCallbackType) < 0
        || PyModule_AddObjectRef(m, "PartPut", (PyObject *)&PartPutType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
