/**
 * Why a job request is refused, one class per HTTP answer the routes give: a bad spec (400), a
 * name or state conflict (409), an unknown job (404). Messages are one line naming the field or job.
 */

/** A job spec the server refuses (bad field, data outside the root, no good images): 400. */
export class JobSpecError extends Error {
  override name = 'JobSpecError';
}

/** The model name is taken by a served model or by another unfinished job: 409. */
export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

/** The job is not in a state that allows the request (resume a running job, cancel a finished one): 409. */
export class JobStateError extends Error {
  override name = 'JobStateError';
}

/** No job has that id: 404. */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  constructor(id: string) {
    super(`no job '${id}'`);
  }
}
