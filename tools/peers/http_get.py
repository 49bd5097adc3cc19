"""One plain HTTP GET, as a user's tool would do it (urllib), for the end-to-end tests.

    http_get.py --url http://127.0.0.1:PORT/path

Prints one JSON document: ``{"status": <int>, "body": <text>}`` for any HTTP response (error
statuses included), or ``{"status": null, "error": <text>}`` when no response came (connection
refused, closed or reset). Always exits 0.
"""
import argparse
import json
import urllib.error
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--timeout', type=float, default=15)
    args = parser.parse_args()
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:
            report = {'status': response.status, 'body': response.read().decode('utf-8', 'replace')}
    except urllib.error.HTTPError as error:
        report = {'status': error.code, 'body': error.read().decode('utf-8', 'replace')}
    except (urllib.error.URLError, OSError) as error:
        report = {'status': None, 'error': str(error)}
    print(json.dumps(report))


if __name__ == '__main__':
    main()
