"""flux uri TARGET: resolve a job id or SCHEME:ARG to a Flux URI
(flux-uri(1)); `flux uri` runs main() under flux python."""

import argparse
import logging
import os
import sys

from flux.uri.uri import FluxURIResolver
from flux.util import CLIMain

LOGGER = logging.getLogger("flux-uri")


def _parser(resolver):
    schemes = "\n".join(f"  {name}\t\t{text}" for name, text in resolver.plugins().items())
    parser = argparse.ArgumentParser(
        prog="flux-uri",
        description="Resolve TARGET to a Flux URI",
        epilog="Supported resolver schemes:\n" + schemes,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--remote", action="store_true", help="convert a local URI to remote")
    parser.add_argument("--local", action="store_true",
                        default=bool(os.environ.get("FLUX_URI_RESOLVE_LOCAL")),
                        help="convert a remote URI to local")
    parser.add_argument("--wait", action="store_true",
                        help="wait for a URI to become available, if supported")
    parser.add_argument("uri", metavar="TARGET",
                        help="a Flux jobid or URI in scheme:argument form (e.g. jobid:f1234)")
    return parser


def _run(argv):
    resolver = FluxURIResolver()
    args = _parser(resolver).parse_args(argv)
    target = args.uri + "?wait" if args.wait else args.uri
    uri = resolver.resolve(target)
    print(uri.remote if args.remote else uri.local if args.local else uri)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    CLIMain(LOGGER)(lambda: _run(argv))
