/** Checks of provider settings that several adapter types share (used by their `validate`). */
import type { ProviderSettings } from './adapter.interface';

/** A `base_url` that is set must be an http(s) URL; `required` also faults a missing one. */
export function baseUrlFaults(settings: ProviderSettings, required?: string): string[] {
  if (settings.base_url === undefined) return required ? [`base_url: ${required}`] : [];
  return /^https?:\/\//.test(settings.base_url) ? [] : ['base_url: must be an http(s) URL'];
}
