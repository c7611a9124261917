"""URI resolver plugins: each module here, named for its scheme, defines
class URIResolver (a flux.uri.URIResolverPlugin)."""
