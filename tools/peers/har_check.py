"""Checks a HAR file: read with haralyzer (PyPI), and field by field against HAR 1.2.

    har_check.py FILE.har

Every field the HAR 1.2 specification requires is checked for presence and type (log, creator,
entries, request, response, content, cache, timings, name/value lists), `time` against the sum of
the timings, `content.encoding`/`_encoding` base64 against the text. On success prints a JSON
summary, one object per entry: {"method", "url", "status", "request_body", "response_body",
"mime_type"} with the bodies decoded (base64 ones as latin-1 text), and exits 0; otherwise prints
each problem on stderr and exits 1.
"""
import base64
import json
import sys

from haralyzer import HarEntry, HarParser

problems = []


def need(obj, key, types, where, optional=False):
    if key not in obj:
        if not optional:
            problems.append(f'{where}: missing "{key}"')
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, types):
        problems.append(f'{where}: "{key}" is {type(value).__name__}, not {types}')
    return value


def pairs(obj, key, where):
    for i, pair in enumerate(need(obj, key, list, where) or []):
        need(pair, 'name', str, f'{where}.{key}[{i}]')
        need(pair, 'value', str, f'{where}.{key}[{i}]')


def body(text, encoding, where):
    if text is None:
        return None
    if encoding is None:
        return text
    if encoding != 'base64':
        problems.append(f'{where}: unknown encoding {encoding!r}')
        return text
    try:
        return base64.b64decode(text, validate=True).decode('latin-1')
    except ValueError as e:
        problems.append(f'{where}: bad base64: {e}')
        return text


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        data = json.load(f)
    parser = HarParser(data)
    log = need(data, 'log', dict, 'HAR') or {}
    need(log, 'version', str, 'log')
    creator = need(log, 'creator', dict, 'log') or {}
    need(creator, 'name', str, 'log.creator')
    need(creator, 'version', str, 'log.creator')
    summary = []
    number = (int, float)
    for n, raw in enumerate(parser.har_data['entries']):
        where = f'entries[{n}]'
        entry = HarEntry(raw)
        entry.startTime  # haralyzer parses startedDateTime (ISO 8601)
        need(raw, 'startedDateTime', str, where)
        total = need(raw, 'time', number, where)
        need(raw, 'cache', dict, where)
        timings = need(raw, 'timings', dict, where) or {}
        for key in ('send', 'wait', 'receive'):
            need(timings, key, number, f'{where}.timings')
        for key in ('blocked', 'dns', 'connect', 'ssl'):
            need(timings, key, number, f'{where}.timings', optional=True)
        spent = sum(v for k, v in timings.items() if not k.startswith('_') and isinstance(v, number) and v != -1
                    and k != 'ssl')  # ssl is included in connect
        if total is not None and abs(spent - total) > 0.01:
            problems.append(f'{where}: time {total} is not the sum of the timings {spent}')
        request = need(raw, 'request', dict, where) or {}
        rw = f'{where}.request'
        for key in ('method', 'url', 'httpVersion'):
            need(request, key, str, rw)
        for key in ('headersSize', 'bodySize'):
            need(request, key, int, rw)
        for key in ('headers', 'queryString', 'cookies'):
            pairs(request, key, rw)
        request_body = None
        post = need(request, 'postData', dict, rw, optional=True)
        if post is not None:
            need(post, 'mimeType', str, f'{rw}.postData')
            text = need(post, 'text', str, f'{rw}.postData')
            request_body = body(text, post.get('_encoding'), f'{rw}.postData')
        response = need(raw, 'response', dict, where) or {}
        sw = f'{where}.response'
        need(response, 'status', int, sw)
        for key in ('statusText', 'httpVersion', 'redirectURL'):
            need(response, key, str, sw)
        for key in ('headersSize', 'bodySize'):
            need(response, key, int, sw)
        for key in ('headers', 'cookies'):
            pairs(response, key, sw)
        content = need(response, 'content', dict, sw) or {}
        need(content, 'size', int, f'{sw}.content')
        need(content, 'mimeType', str, f'{sw}.content')
        need(content, 'compression', int, f'{sw}.content', optional=True)
        text = need(content, 'text', str, f'{sw}.content', optional=True)
        need(content, 'encoding', str, f'{sw}.content', optional=True)
        response_body = body(text, content.get('encoding'), f'{sw}.content')
        # haralyzer's own view of the same entry
        summary.append({
            'method': entry.request.method, 'url': entry.request.url, 'status': entry.response.status,
            'request_body': request_body, 'response_body': response_body,
            'mime_type': entry.response.mimeType,
        })
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
