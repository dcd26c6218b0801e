import type { Config } from '../../config.js';
import { DomainError } from '../common/errors.js';

/**
 * What instance create picks from (section 2.4): the configured flavors and the one
 * datastore, `postgresql`, version `15`, with stable ids.
 */

export interface Flavor {
  id: string;
  name: string;
  ramMb: number;
  vcpus: number;
}

/** TROVE_FLAVORS parsed (ID:NAME:RAM_MB:VCPUS,...). */
export function flavors(config: Config): Flavor[] {
  return config.TROVE_FLAVORS.split(',').map((entry) => {
    const [id, name, ram, vcpus] = entry.split(':') as [string, string, string, string];
    return { id, name, ramMb: Number(ram), vcpus: Number(vcpus) };
  });
}

/** A flavor by id, or undefined. */
export function findFlavor(config: Config, id: string): Flavor | undefined {
  return flavors(config).find((f) => f.id === id);
}

/** A flavor by id for instance create: unknown = 400 (Trove's FlavorNotFound is not in its fault map). */
export function flavorForCreate(config: Config, ref: string): Flavor {
  const f = findFlavor(config, ref);
  if (!f) throw new DomainError('invalid', `Resource ${ref} cannot be found.`);
  return f;
}

/** shared_buffers for a flavor: RAM/32, between 16 and 256 MiB. */
export function sharedBuffersMb(flavor: Flavor | undefined): number {
  return Math.min(256, Math.max(16, Math.floor((flavor?.ramMb ?? 512) / 32)));
}

export const DATASTORE = { id: 'f5a4b6c2-0f3e-4d6b-9a51-8e5c2b7d1a01', name: 'postgresql' } as const;
export const DATASTORE_VERSION = { id: 'b7e1c9d4-3a2f-4e8b-8c6d-2f9a1e0b5c02', name: '15', version: '15' } as const;

/** The datastore by name or id; 404 "Datastore '<x>' cannot be found." otherwise. */
export function findDatastore(ref: string): typeof DATASTORE {
  if (ref === DATASTORE.id || ref === DATASTORE.name) return DATASTORE;
  throw new DomainError('not_found', `Datastore '${ref}' cannot be found.`);
}

/** The version by name or id (within the datastore); 404 "Datastore version '<x>' cannot be found." otherwise. */
export function findDatastoreVersion(ref: string): typeof DATASTORE_VERSION {
  if (ref === DATASTORE_VERSION.id || ref === DATASTORE_VERSION.name) return DATASTORE_VERSION;
  throw new DomainError('not_found', `Datastore version '${ref}' cannot be found.`);
}
