/** Domain errors: services throw these; one HTTP filter maps them to status codes. */
export abstract class DomainError extends Error {
  /** The request field the error is about, when there is one. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 404: no entity with that id (or none at the instant asked for, with a message saying why). */
export class EntityNotFoundError extends DomainError {
  constructor(entity: string, id: number | string, message = `${entity} ${id} not found`) {
    super(message);
  }
}

/** 409: the request collides with current state (a taken email, an illegal status change). */
export class ConflictError extends DomainError {}

/** 412: `If-Match` names a version that is no longer the entity's current one. */
export class PreconditionFailedError extends DomainError {}

/** 422: the request is well-formed but names something that does not exist. */
export class UnprocessableError extends DomainError {}
