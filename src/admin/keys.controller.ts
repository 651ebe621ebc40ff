/** Key admin API (SPEC §4); master key required. The work is done by KeysService. */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { KeysService } from '../auth/keys.service';
import { OpenAIExceptionFilter } from '../common/openai-exception.filter';
import { MasterKeyGuard } from '../auth/master-key.guard';
import {
  CreateKeyDto,
  keyView,
  keyViewWithUsage,
  ListKeysQuery,
  RotateKeyDto,
  UpdateKeyDto,
  type KeyView,
} from './keys.dto';
import { adminValidationPipe } from './validation.pipe';

@Controller('admin/keys')
@UseFilters(new OpenAIExceptionFilter())
@UseGuards(MasterKeyGuard)
@UsePipes(adminValidationPipe())
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  async create(@Body() body: CreateKeyDto): Promise<KeyView & { key: string }> {
    const { record, key } = await this.keys.create(body);
    return { ...keyView(record), key };
  }

  @Get()
  async list(@Query() query: ListKeysQuery): Promise<{ data: KeyView[]; next_cursor: string | null }> {
    const page = await this.keys.list(query.limit ?? 50, query.cursor ?? null);
    return { data: page.data.map(keyView), next_cursor: page.next_cursor };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<ReturnType<typeof keyViewWithUsage>> {
    return keyViewWithUsage(await this.keys.get(id));
  }

  @Patch(':id')
  async update(
    @Param('id') id: string,
    @Body() body: UpdateKeyDto,
  ): Promise<ReturnType<typeof keyViewWithUsage>> {
    return keyViewWithUsage(await this.keys.update(id, body));
  }

  @Post(':id/rotate')
  async rotate(@Param('id') id: string, @Body() body: RotateKeyDto): Promise<KeyView & { key: string }> {
    const { record, key } = await this.keys.rotate(id, body.grace_seconds ?? 0);
    return { ...keyView(record), key };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string): Promise<void> {
    await this.keys.revoke(id);
  }
}
