<?php
// A hookline webhook receiver using only PHP's standard library. It verifies
// each delivery's Standard Webhooks signature (v1, HMAC-SHA256) and
// timestamp, dedupes on webhook-id, answers 204 and prints the event type.
// Run it with PHP's built-in server, which takes the address itself:
//
//   WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:3000 receiver.php
//
// or put it behind any web server with PHP (php-fpm). See docs/receiving.md
// for why each step is there.

// How far webhook-timestamp may be from this machine's clock: a captured
// request cannot be replayed after it.
const TOLERANCE_SECONDS = 5 * 60;

function reject(int $status, string $reason): void
{
    file_put_contents('php://stderr', "rejected: $reason\n");
    http_response_code($status);
    header('Content-Type: text/plain');
    echo $reason;
}

// Turns "whsec_<base64>" into the HMAC key: the decoded bytes, not the text.
function decode_secret(string $secret): ?string
{
    if (!str_starts_with($secret, 'whsec_')) {
        return null;
    }
    $key = base64_decode(substr($secret, strlen('whsec_')), true);
    return $key === false ? null : $key;
}

// Whether any of the space-separated "v1,<base64>" signatures (more than one
// while the endpoint's secret is being rotated) is the HMAC-SHA256 of
// "<id>.<timestamp>.<body>".
function verify(string $key, string $id, string $timestamp, string $body, string $header): bool
{
    $want = hash_hmac('sha256', "$id.$timestamp.$body", $key, true);
    foreach (explode(' ', $header) as $sig) {
        $parts = explode(',', $sig, 2);
        if (count($parts) !== 2 || $parts[0] !== 'v1') {
            continue; // v1a (ed25519) or a version this receiver does not know
        }
        $got = base64_decode($parts[1], true);
        // hash_equals takes the same time wherever the strings differ.
        if ($got !== false && hash_equals($want, $got)) {
            return true;
        }
    }
    return false;
}

// Records a webhook-id, answering false when it was already there. PHP keeps
// nothing between requests, so the record is a file created only if absent
// (fopen 'x'); use your database in production.
function first_time(string $id): bool
{
    $dir = getenv('WEBHOOK_SEEN_DIR') ?: sys_get_temp_dir() . '/hookline-seen';
    if (!is_dir($dir)) {
        @mkdir($dir, 0700, true);
    }
    $f = @fopen($dir . '/' . hash('sha256', $id), 'x');
    if ($f === false) {
        return false;
    }
    fclose($f);
    return true;
}

function handle(): void
{
    if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
        reject(405, 'POST only');
        return;
    }
    $key = decode_secret(getenv('WEBHOOK_SECRET') ?: '');
    if ($key === null) {
        reject(500, "WEBHOOK_SECRET: want the endpoint's whsec_... secret");
        return;
    }
    // Verify the raw bytes as they arrived (php://input), never a body
    // rebuilt from json_decode or $_POST: a body decoded and encoded again
    // (key order, spacing, escapes) no longer matches its signature.
    $body = file_get_contents('php://input');
    $id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
    $timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
    $signatures = $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '';
    if ($id === '' || $timestamp === '' || $signatures === '') {
        reject(400, 'missing webhook-id, webhook-timestamp or webhook-signature');
        return;
    }
    if (!ctype_digit($timestamp)) {
        reject(400, 'webhook-timestamp is not unix seconds');
        return;
    }
    if (abs(time() - (int)$timestamp) > TOLERANCE_SECONDS) {
        reject(401, 'webhook-timestamp outside the tolerance');
        return;
    }
    if (!verify($key, $id, $timestamp, $body, $signatures)) {
        reject(401, 'no valid signature');
        return;
    }
    $event = json_decode($body, true);
    if (!is_array($event)) {
        reject(400, 'body is not a JSON event');
        return;
    }
    // Deliveries are at least once: the same webhook-id may come again.
    $seen = first_time($id) ? 'received' : 'duplicate';
    // Answer fast: hand slow work to a queue of your own.
    file_put_contents('php://stdout', "$seen $id " . ($event['type'] ?? '') . "\n");
    http_response_code(204);
}

handle();
