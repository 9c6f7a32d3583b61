import { InitialSchema1764064800000 } from './1764064800000-initial-schema';

/** Every migration, oldest first. Listed explicitly so the build needs no glob at run time. */
export const MIGRATIONS = [InitialSchema1764064800000];
