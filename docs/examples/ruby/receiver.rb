# A hookline webhook receiver using only Ruby's standard library (socket,
# openssl, base64, json). It verifies each delivery's Standard Webhooks
# signature (v1, HMAC-SHA256) and timestamp, dedupes on webhook-id, answers
# 204 and prints the event type.
#
#   WEBHOOK_SECRET=whsec_... PORT=3000 ruby receiver.rb
#
# Ruby 3 ships no HTTP server (WEBrick became a gem), so this one speaks
# just enough HTTP/1.1 over a socket; in a Rails or Sinatra app, read
# request.raw_post / request.body.read and keep the verification below.
# See docs/receiving.md for why each step is there.

require "base64"
require "json"
require "openssl"
require "set"
require "socket"

# How far webhook-timestamp may be from this machine's clock: a captured
# request cannot be replayed after it.
TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 1 << 20

# Turns "whsec_<base64>" into the HMAC key: the decoded bytes, not the text.
def decode_secret(secret)
  raise ArgumentError, "want the endpoint's whsec_... secret" unless secret.start_with?("whsec_")
  Base64.strict_decode64(secret.delete_prefix("whsec_"))
end

# Whether any of the space-separated "v1,<base64>" signatures (more than one
# while the endpoint's secret is being rotated) is the HMAC-SHA256 of
# "<id>.<timestamp>.<body>".
def verify(key, id, timestamp, body, header)
  # Bytes, not text: a body with UTF-8 in it must not be re-encoded.
  want = OpenSSL::HMAC.digest("SHA256", key, [id, timestamp, body].map(&:b).join("."))
  header.split(" ").any? do |sig|
    version, value = sig.split(",", 2)
    # v1a (ed25519) or a version this receiver does not know is skipped.
    next false unless version == "v1" && value
    got = Base64.decode64(value)
    # secure_compare takes the same time wherever the bytes differ.
    got.bytesize == want.bytesize && OpenSSL.fixed_length_secure_compare(got, want)
  end
end

# Checks one delivery: [status, reason, event].
def check(key, headers, body)
  id = headers["webhook-id"]
  timestamp = headers["webhook-timestamp"]
  signatures = headers["webhook-signature"]
  unless id && timestamp && signatures
    return [400, "missing webhook-id, webhook-timestamp or webhook-signature"]
  end
  return [400, "webhook-timestamp is not unix seconds"] unless timestamp.match?(/\A[0-9]+\z/)
  if (Time.now.to_i - timestamp.to_i).abs > TOLERANCE_SECONDS
    return [401, "webhook-timestamp outside the tolerance"]
  end
  return [401, "no valid signature"] unless verify(key, id, timestamp, body, signatures)
  begin
    [204, nil, JSON.parse(body)]
  rescue JSON::ParserError
    [400, "body is not a JSON event"]
  end
end

def respond(client, status, reason)
  text = { 204 => "No Content", 400 => "Bad Request", 401 => "Unauthorized",
           405 => "Method Not Allowed", 413 => "Payload Too Large" }.fetch(status, "Error")
  body = reason.to_s
  client.write("HTTP/1.1 #{status} #{text}\r\nConnection: close\r\n")
  client.write(status == 204 ? "\r\n" : "Content-Type: text/plain\r\nContent-Length: #{body.bytesize}\r\n\r\n#{body}")
end

def serve(client, key, seen, lock)
  request_line = client.gets or return # a connection closed unused
  method, = request_line.split(" ")
  headers = {}
  while (line = client.gets) && line != "\r\n"
    name, value = line.split(":", 2)
    headers[name.strip.downcase] = value.to_s.strip
  end
  length = headers["content-length"].to_i
  return respond(client, 405, "POST only") unless method == "POST"
  return respond(client, 413, "body too large") if length > MAX_BODY
  # Verify the raw bytes as they arrived: a body decoded and encoded again
  # (key order, spacing, escapes) no longer matches its signature.
  body = length.positive? ? client.read(length) : ""
  status, reason, event = check(key, headers, body || "")
  if reason
    warn "rejected: #{reason}"
    return respond(client, status, reason)
  end
  # Deliveries are at least once: the same webhook-id may come again.
  id = headers["webhook-id"]
  duplicate = lock.synchronize { !seen.add?(id) }
  # Answer fast: hand slow work to a queue of your own.
  puts "#{duplicate ? 'duplicate' : 'received'} #{id} #{event['type']}"
  respond(client, 204, nil)
end

begin
  key = decode_secret(ENV.fetch("WEBHOOK_SECRET", ""))
rescue ArgumentError => e
  abort "WEBHOOK_SECRET: #{e.message}"
end
$stdout.sync = true
seen = Set.new # webhook-ids handled; use your database in production
lock = Mutex.new
# HOST=0.0.0.0 to take deliveries from other machines.
host = ENV.fetch("HOST", "127.0.0.1")
port = Integer(ENV.fetch("PORT", "3000"))
server = TCPServer.new(host, port)
warn "listening on #{host}:#{port}"
loop do
  client = server.accept
  Thread.new(client) do |c|
    serve(c, key, seen, lock)
  rescue StandardError => e
    warn "error: #{e.message}"
  ensure
    c.close
  end
end
