/* wssaudiochunk core: what of a URI may be shown. Credentials travel in the
 * query string for gateways that cannot read headers on the upgrade (API
 * Gateway authorizers, presigned URLs); logs, bus messages and errors must
 * never carry them. */
#pragma once

#include <string>
#include <string_view>

namespace wssac
{

/* Whether a query parameter named @name (any case) holds a credential:
 * token, access_token, auth, authorization, key, api_key, apikey,
 * signature, sig, password, secret, X-Amz-Security-Token, X-Amz-Signature,
 * X-Amz-Credential. */
bool is_secret_query_parameter (std::string_view name);

/* @uri with the values of secret query parameters replaced by "***"; the
 * rest, fragment included, unchanged. */
std::string redact_uri (std::string_view uri);

} // namespace wssac
