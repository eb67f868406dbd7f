// The inbound source presets the form offers. The API lists none, so this
// mirrors the presets registered in internal/verify (verify.Names(), each
// provider's register call); TestProviderPresetsMatch fails when the two
// drift. own: the provider has no default mapping (Preset.DefaultType is
// empty), so a source of it needs one. config: the verification settings
// object the provider takes besides its secret (SourceInput's hmac,
// api_key or github).

export const providers = [
  { name: 'api-key', label: 'API key in a header or query parameter', own: true, config: 'api_key' },
  { name: 'basic', label: 'HTTP Basic auth (user:password)', own: true },
  { name: 'calendly', label: 'Calendly' },
  { name: 'discourse', label: 'Discourse' },
  { name: 'github', label: 'GitHub', config: 'github' },
  { name: 'hmac', label: 'Generic HMAC signature', own: true, config: 'hmac' },
  { name: 'hubspot', label: 'HubSpot' },
  { name: 'intercom', label: 'Intercom' },
  { name: 'linear', label: 'Linear' },
  { name: 'meta', label: 'Meta (Messenger, Instagram, Pages)' },
  { name: 'none', label: 'None (no verification)', own: true },
  { name: 'paddle', label: 'Paddle' },
  { name: 'sendgrid', label: 'SendGrid (public key)' },
  { name: 'shopify', label: 'Shopify' },
  { name: 'slack', label: 'Slack' },
  { name: 'square', label: 'Square' },
  { name: 'standard-webhooks', label: 'Standard Webhooks' },
  { name: 'stripe', label: 'Stripe' },
  { name: 'svix', label: 'Svix' },
  { name: 'twilio', label: 'Twilio' },
  { name: 'typeform', label: 'Typeform' },
  { name: 'whatsapp', label: 'WhatsApp (Meta)' },
  { name: 'zendesk', label: 'Zendesk' },
];

export const providerOf = (name) => providers.find((p) => p.name === name);
