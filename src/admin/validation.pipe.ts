/** class-validator on admin DTOs; a failure is a 400 in OpenAI shape naming the field. */
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { GatewayError } from '../common/errors';

function firstProblem(errors: ValidationError[], path = ''): { param: string; message: string } | null {
  for (const e of errors) {
    const param = path ? `${path}.${e.property}` : e.property;
    const constraint = e.constraints ? Object.values(e.constraints)[0] : undefined;
    if (constraint !== undefined) return { param, message: constraint };
    const nested = firstProblem(e.children ?? [], param);
    if (nested) return nested;
  }
  return null;
}

export function adminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const problem = firstProblem(errors);
      return GatewayError.badRequest(problem?.message ?? 'Invalid request body.', problem?.param ?? null);
    },
  });
}
